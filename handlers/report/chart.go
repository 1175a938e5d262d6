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

// Chart draws messages and actions per hour as a PNG: for each hour a pale bar
// for the events and a red one beside it for the actions (an event may take
// several actions, so neither hides the other), and an orange band behind the
// hours of each crisis alert.
func (r *Report) Chart() ([]byte, error) {
	tf, err := newTypeface()
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBackground}, image.Point{}, draw.Src)

	drawText(img, tf.bold, marginLeft, 12, "Messages and actions per hour", colText)
	period := r.Since.Format("Mon 2 Jan 2006 15:04") + " – " + r.Until.Format("Mon 2 Jan 2006 15:04")
	if r.Timezone != "" {
		period += " (" + r.Timezone + ")"
	}
	drawText(img, tf.regular, marginLeft, 38, period, colAxis)

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
		drawText(img, tf.regular, x0-10-width(tf.regular, label), y-8, label, colAxis)
	}
	// bars
	barH := func(v int) int { return v * plotH / top }
	for i, h := range r.Hours {
		left := x0 + int(float64(i)*slot)
		right := x0 + int(float64(i+1)*slot)
		gap := max(int(slot/8), 1)
		mid := (left + right) / 2
		fill(img, left+gap, y0-barH(h.Events), mid, y0, colEvents)
		fill(img, mid, y0-barH(h.Actions), right-gap, y0, colActions)
	}
	// x axis and hour labels, as many as fit
	fill(img, x0, y0, x0+plotW, y0+2, colAxis)
	every := 1
	for float64(every)*slot < float64(width(tf.regular, "00")+8) {
		every++
	}
	for i, h := range r.Hours {
		if i%every != 0 {
			continue
		}
		label := h.Start.Format("15")
		cx := x0 + int((float64(i)+0.5)*slot)
		drawText(img, tf.regular, cx-width(tf.regular, label)/2, y0+10, label, colText)
	}
	// legend, top right
	legend := []struct {
		c    color.Color
		text string
	}{{colEvents, "messages"}, {colActions, "actions"}, {colAlert, "alert"}}
	lx := chartW - marginRight
	for _, l := range legend {
		lx -= 20 + width(tf.regular, l.text) + 24
	}
	for _, l := range legend {
		fill(img, lx, 16, lx+14, 30, l.c)
		drawText(img, tf.regular, lx+20, 15, l.text, colText)
		lx += 20 + width(tf.regular, l.text) + 24
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
