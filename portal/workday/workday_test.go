package workday

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, China)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBetween(t *testing.T) {
	// 2026-10-01..07 National Day holiday; 2026-09-27 (Sunday) and 2026-10-10 (Saturday) worked.
	cal := Calendar{
		Off: map[string]bool{"2026-10-01": true, "2026-10-02": true, "2026-10-05": true, "2026-10-06": true, "2026-10-07": true},
		On:  map[string]bool{"2026-10-10": true},
	}
	tests := []struct {
		cal      Calendar
		from, to string
		want     int
	}{
		{Calendar{}, "2026-11-23 09:00", "2026-11-23 18:00", 0}, // Monday, same day
		{Calendar{}, "2026-11-23 09:00", "2026-11-24 08:00", 1}, // Monday → Tuesday
		{Calendar{}, "2026-11-27 17:00", "2026-11-30 09:00", 1}, // Friday → Monday
		{Calendar{}, "2026-11-28 10:00", "2026-11-29 10:00", 0}, // Saturday → Sunday
		{Calendar{}, "2026-11-20 10:00", "2026-11-27 10:00", 5}, // a week
		{cal, "2026-09-30 10:00", "2026-10-08 10:00", 1},        // holiday week: only the 8th counts
		{cal, "2026-10-09 10:00", "2026-10-10 10:00", 1},        // a worked Saturday
		{Calendar{}, "2026-11-23 23:30", "2026-11-23 16:00", 0}, // to before from
		// Early morning counts by the China-time calendar day.
		{Calendar{}, "2026-11-23 07:30", "2026-11-24 07:30", 1},
	}
	for _, tt := range tests {
		if got := tt.cal.Between(day(tt.from), day(tt.to)); got != tt.want {
			t.Errorf("Between(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	got := Calendar{}.Add(day("2026-11-26 15:00"), 3) // Thursday + 3 working days → Tuesday
	if want := day("2026-12-01 23:59").Add(59 * time.Second); !got.Equal(want) {
		t.Errorf("Add = %v, want %v", got, want)
	}
	if got := (Calendar{}).Add(day("2026-11-26 15:00"), 0); got.Format("2006-01-02") != "2026-11-26" {
		t.Errorf("Add 0 = %v", got)
	}
}
