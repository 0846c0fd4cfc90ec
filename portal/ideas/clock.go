package ideas

import "time"

// chinaTime is China Standard Time (no daylight saving), for calendar days.
var chinaTime = time.FixedZone("CST", 8*3600)
