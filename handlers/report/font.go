package report

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// typeface is the chart's lettering: the Go fonts, built into the binary,
// which cover Latin with its accents ("Préférences", "lundi"), so that labels
// are written as people write them.
type typeface struct {
	regular, bold font.Face
}

func newTypeface() (*typeface, error) {
	face := func(ttf []byte, size float64) (font.Face, error) {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, err
		}
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	regular, err := face(goregular.TTF, 14)
	if err != nil {
		return nil, fmt.Errorf("report: font: %w", err)
	}
	bold, err := face(gobold.TTF, 18)
	if err != nil {
		return nil, fmt.Errorf("report: font: %w", err)
	}
	return &typeface{regular: regular, bold: bold}, nil
}

// width is how wide s is drawn with f, in pixels.
func width(f font.Face, s string) int {
	return font.MeasureString(f, s).Ceil()
}

// drawText draws s with its top-left corner at (x, y).
func drawText(img *image.RGBA, f font.Face, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f,
		Dot: fixed.Point26_6{X: fixed.I(x), Y: fixed.I(y) + f.Metrics().Ascent}}
	d.DrawString(s)
}
