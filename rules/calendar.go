package rules

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ar"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/bg"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/gr"
	"github.com/rickar/cal/v2/hr"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/lv"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/ro"
	"github.com/rickar/cal/v2/ru"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/si"
	"github.com/rickar/cal/v2/sk"
	"github.com/rickar/cal/v2/ua"
	"github.com/rickar/cal/v2/us"
	"github.com/rickar/cal/v2/za"
)

// countryHolidays are the national calendars a rule file may name in
// holidays: by ISO 3166-1 code. They come from github.com/rickar/cal, which
// computes each year's dates (Easter and its followers, "the fourth Thursday",
// substitute days) instead of listing them.
var countryHolidays = map[string][]*cal.Holiday{
	"AR": ar.Holidays, "AT": at.Holidays, "BE": be.Holidays, "BG": bg.Holidays,
	"BR": br.Holidays, "CA": ca.Holidays, "CH": ch.Holidays, "CZ": cz.Holidays, "DE": de.Holidays,
	"DK": dk.Holidays, "ES": es.Holidays, "FR": fr.Holidays, "GB": gb.Holidays, "GR": gr.Holidays,
	"HR": hr.Holidays, "IE": ie.Holidays, "IT": it.Holidays, "JP": jp.Holidays, "LT": lt.Holidays,
	"LV": lv.Holidays, "NL": nl.Holidays, "NO": no.Holidays, "NZ": nz.Holidays, "PL": pl.Holidays,
	"RO": ro.Holidays, "RU": ru.Holidays, "SE": se.Holidays, "SI": si.Holidays, "SK": sk.Holidays,
	"UA": ua.Holidays, "US": us.Holidays, "ZA": za.Holidays,
}

// knownCountries lists the codes holidays: accepts, for error messages.
func knownCountries() string {
	codes := make([]string, 0, len(countryHolidays))
	for c := range countryHolidays {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return strings.Join(codes, ", ")
}

// calendar is one country's public holidays, worked out a year at a time when
// first asked and kept. It is read on every flagged event (the moderator's
// mode), from every lane: a sync.Map reads without a lock.
type calendar struct {
	code  string
	days  []*cal.Holiday
	years *sync.Map // int (year) -> []dateKey
}

func newCalendar(code string) (calendar, bool) {
	days, ok := countryHolidays[strings.ToUpper(code)]
	if !ok {
		return calendar{}, false
	}
	return calendar{code: strings.ToUpper(code), days: days, years: new(sync.Map)}, true
}

// holiday says whether y-m-d is one of the country's public holidays, on the
// day itself or on the day it is observed (a Sunday holiday moved to Monday).
func (c calendar) holiday(y int, m time.Month, d int) bool {
	days, ok := c.years.Load(y)
	if !ok {
		// Two goroutines may work a year out at once; they find the same days.
		days, _ = c.years.LoadOrStore(y, c.year(y))
	}
	return slices.Contains(days.([]dateKey), dateKey{y, m, d})
}

func (c calendar) year(y int) []dateKey {
	var out []dateKey
	for _, h := range c.days {
		if h.Type != cal.ObservancePublic && h.Type != cal.ObservanceBank {
			continue
		}
		actual, observed := h.Calc(y)
		for _, t := range []time.Time{actual, observed} {
			if t.IsZero() || t.Year() != y {
				continue
			}
			yy, mm, dd := t.Date()
			out = append(out, dateKey{yy, mm, dd})
		}
	}
	return out
}
