// Package workday counts working days in China: Monday to Friday, minus
// public holidays, plus the weekend days worked in exchange (调休). Review
// deadlines for moderators and, later, reply deadlines for departments are
// counted in working days.
package workday

import "time"

// China is China Standard Time (no daylight saving); days are counted in it.
var China = time.FixedZone("CST", 8*3600)

// Calendar knows which days are exceptions to the Monday–Friday rule.
// The zero value is a plain Monday–Friday calendar.
type Calendar struct {
	// Off are holidays on weekdays; On are weekend days worked. Keys are
	// YYYY-MM-DD in China time.
	Off, On map[string]bool
}

// IsWorkday reports whether the China-time day containing t is a working day.
func (c Calendar) IsWorkday(t time.Time) bool {
	d := t.In(China)
	key := d.Format("2006-01-02")
	if c.On[key] {
		return true
	}
	if c.Off[key] {
		return false
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Between counts the working days after from's day up to and including to's
// day: an item submitted on Monday is 0 working days old on Monday and 1 on
// Tuesday; one submitted on Friday is 1 day old on Monday.
func (c Calendar) Between(from, to time.Time) int {
	a := dayStart(from)
	b := dayStart(to)
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// Add returns the end (23:59:59 China time) of the n-th working day after t's day.
func (c Calendar) Add(t time.Time, n int) time.Time {
	d := dayStart(t)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d.Add(24*time.Hour - time.Second)
}

func dayStart(t time.Time) time.Time {
	l := t.In(China)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, China)
}
