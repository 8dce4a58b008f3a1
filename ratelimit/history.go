package ratelimit

import (
	"fmt"
	"strconv"
	"time"
)

// day is the length of a UTC calendar day. UTC has no daylight saving time
// and Go's time ignores leap seconds, so every UTC day is exactly this long.
const day = 24 * time.Hour

// dayStart returns 00:00 UTC of the day that holds t.
func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// historyExpiry is when the count of the UTC day starting at d is forgotten:
// HistoryDays+1 days after the day began, so that on any day the stores
// still hold that day and the HistoryDays days before it, which is the
// reach of API Gateway's GetUsage.
func historyExpiry(d time.Time) time.Time { return d.Add((HistoryDays + 1) * day) }

// historyRange returns the first UTC day and the number of days that
// History(from, to) reports. A range longer than HistoryDays+1 days is cut
// at its start: days before that are forgotten by every store, and capping
// bounds the work a single call can ask for.
func historyRange(from, to time.Time) (time.Time, int, error) {
	if from.After(to) {
		return time.Time{}, 0, fmt.Errorf("history: from %v is after to %v", from, to)
	}
	first, last := dayStart(from), dayStart(to)
	n := int(last.Sub(first)/day) + 1
	if n > HistoryDays+1 {
		n = HistoryDays + 1
		first = last.Add(-HistoryDays * day)
	}
	return first, n, nil
}

// historyKey names the counter of the UTC day starting at d under key. Day
// counters of different days never collide, so a day starts at zero and an
// old day simply expires.
func historyKey(key string, d time.Time) string {
	return key + ":" + strconv.FormatInt(d.Unix(), 10)
}
