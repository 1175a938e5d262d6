package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"time"
)

// Chart sizes, in pixels.
const (
	chartW      = 960
	chartH      = 420
	marginLeft  = 70
	marginRight = 20
	marginTop   = 70
	marginBot   = 50
)

var (
	colBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colText       = color.RGBA{0x22, 0x22, 0x22, 0xff}
	colGrid       = color.RGBA{0xe2, 0xe2, 0xe2, 0xff}
	colAxis       = color.RGBA{0x88, 0x88, 0x88, 0xff}
	colEvents     = color.RGBA{0x9d, 0xb4, 0xc8, 0xff}
	colActions    = color.RGBA{0xd6, 0x45, 0x3d, 0xff}
	colAlert      = color.RGBA{0xff, 0xd8, 0xa8, 0xff}
)

// Chart draws messages and actions per hour as a PNG: a pale bar per hour for the
// events, a red bar inside it for the actions, and an orange band behind the
// hours of each crisis alert.
func (r *Report) Chart() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBackground}, image.Point{}, draw.Src)

	title := "MESSAGES AND ACTIONS PER HOUR"
	drawText(img, marginLeft, 14, title, 2, colText)
	period := r.Since.Format("Mon 2 Jan 15:04") + " - " + r.Until.Format("Mon 2 Jan 15:04")
	drawText(img, marginLeft, 38, period, 2, colAxis)

	plotW := chartW - marginLeft - marginRight
	plotH := chartH - marginTop - marginBot
	x0, y0 := marginLeft, marginTop+plotH // bottom-left of the plot

	peak := 0
	for _, h := range r.Hours {
		peak = max(peak, h.Events, h.Actions)
	}
	top := niceCeil(peak)
	n := max(len(r.Hours), 1)
	slot := float64(plotW) / float64(n)

	// alerts behind everything
	for _, w := range r.Alerts {
		for i, h := range r.Hours {
			end := h.Start.Add(time.Hour)
			if w.To.Before(h.Start) || !w.From.Before(end) {
				continue
			}
			fill(img, x0+int(float64(i)*slot), marginTop, x0+int(float64(i+1)*slot), y0, colAlert)
		}
	}
	// grid and y labels: 4 steps
	for s := 0; s <= 4; s++ {
		y := y0 - s*plotH/4
		fill(img, x0, y, x0+plotW, y+1, colGrid)
		label := strconv.Itoa(top * s / 4)
		drawText(img, x0-10-textWidth(label, 2), y-7, label, 2, colAxis)
	}
	// bars
	barH := func(v int) int { return v * plotH / top }
	for i, h := range r.Hours {
		left := x0 + int(float64(i)*slot)
		right := x0 + int(float64(i+1)*slot)
		gap := max(int(slot/8), 1)
		fill(img, left+gap, y0-barH(h.Events), right-gap, y0, colEvents)
		inner := max(int(slot/4), gap)
		fill(img, left+inner, y0-barH(h.Actions), right-inner, y0, colActions)
	}
	// x axis and hour labels, as many as fit
	fill(img, x0, y0, x0+plotW, y0+2, colAxis)
	every := 1
	for float64(every)*slot < float64(textWidth("00", 2)+8) {
		every++
	}
	for i, h := range r.Hours {
		if i%every != 0 {
			continue
		}
		label := h.Start.Format("15")
		cx := x0 + int((float64(i)+0.5)*slot)
		drawText(img, cx-textWidth(label, 2)/2, y0+10, label, 2, colText)
	}
	// legend, top right
	lx := chartW - marginRight - 420
	legend := []struct {
		c    color.Color
		text string
	}{{colEvents, "MESSAGES"}, {colActions, "ACTIONS"}, {colAlert, "ALERT"}}
	for _, l := range legend {
		fill(img, lx, 44, lx+14, 58, l.c)
		drawText(img, lx+20, 44, l.text, 2, colText)
		lx += 20 + textWidth(l.text, 2) + 24
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("report: chart: %w", err)
	}
	return buf.Bytes(), nil
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	if x1 <= x0 || y1 <= y0 {
		return
	}
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

// niceCeil is the top of the y axis: four grid steps of 1, 2 or 5 times a power
// of ten, enough for n.
func niceCeil(n int) int {
	need := max((n+3)/4, 1)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= need {
				return 4 * m * p
			}
		}
	}
}
