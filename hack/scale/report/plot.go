package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
)

const (
	width, height                  = 960, 540
	left, right, top, bottom       = 90, 250, 50, 70
	plotW, plotH                   = width - left - right, height - top - bottom
	markerHalf, lineWidth, tickLen = 4, 2, 5
)

var (
	black   = color.RGBA{0, 0, 0, 255}
	grey    = color.RGBA{220, 220, 220, 255}
	palette = []color.RGBA{{200, 50, 40, 255}, {30, 100, 200, 255}, {40, 150, 60, 255}, {150, 80, 170, 255}}
)

// series is one configuration's median cache cost (MiB) per session count, with
// min and max whiskers.
type series struct {
	name        string
	x           []float64
	med, lo, hi []float64
}

// Plot draws the cache cost (heap in use after GC minus the baseline) of every
// configuration against the number of sessions, at the session-scale points.
func Plot(res *bench.Results) ([]byte, error) {
	ss := plotSeries(res)
	if len(ss) == 0 {
		return nil, fmt.Errorf("no heap measurements to plot")
	}
	var xmax, ymax float64
	for _, s := range ss {
		xmax = math.Max(xmax, slices.Max(s.x))
		ymax = math.Max(ymax, slices.Max(s.hi))
	}
	xmax, ymax = axisMax(xmax*1.05), axisMax(ymax*1.1)
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	px := func(x float64) int { return left + int(x/xmax*plotW) }
	py := func(y float64) int { return top + plotH - int(y/ymax*plotH) }

	for _, t := range ticks(ymax) {
		hline(img, left, left+plotW, py(t), grey)
		text(img, left-tickLen-6-7*len(label(t)), py(t)+4, label(t), black)
	}
	for _, t := range ticks(xmax) {
		vline(img, px(t), top+plotH, top+plotH+tickLen, black)
		text(img, px(t)-7*len(label(t))/2, top+plotH+tickLen+14, label(t), black)
	}
	hline(img, left, left+plotW, top+plotH, black)
	vline(img, left, top, top+plotH, black)
	text(img, left, top-28, "Cache cost: heap in use after two GCs minus the pre-start baseline (median, min-max)", black)
	text(img, left-60, top-10, "MiB", black)
	text(img, left+plotW/2-70, height-22, "AgenticSessions in the cluster", black)

	lowest := 0
	for n, s := range ss {
		if s.med[0] < ss[lowest].med[0] {
			lowest = n
		}
	}
	for n, s := range ss {
		c := palette[n%len(palette)]
		for k := range s.x {
			if k > 0 {
				line(img, px(s.x[k-1]), py(s.med[k-1]), px(s.x[k]), py(s.med[k]), c)
			}
			vline(img, px(s.x[k]), py(s.hi[k]), py(s.lo[k]), c)
			rect(img, px(s.x[k]), py(s.med[k]), c)
		}
		ly := top + 20 + n*22
		line(img, left+plotW+20, ly, left+plotW+45, ly, c)
		rect(img, left+plotW+32, ly, c)
		text(img, left+plotW+52, ly+4, s.name, c)
	}
	// Values last, on boxes over the lines: above the markers, the lowest line's
	// beside them, clear of the axis and of the line above.
	for n, s := range ss {
		dy := -6
		if n == lowest {
			dy = 4
		}
		for k := range s.x {
			boxedText(img, px(s.x[k])+8, py(s.med[k])+dy, fmt.Sprintf("%.1f", s.med[k]), palette[n%len(palette)])
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func plotSeries(res *bench.Results) []series {
	var names []string
	for _, p := range res.Points {
		for name := range p.Heap {
			// The first start is measured at one point only: a table row, not a line.
			if name != bench.ShippedFirstStart && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	var out []series
	for _, name := range names {
		s := series{name: name}
		for _, p := range res.Points {
			r, ok := p.Heap[name]
			if !ok || p.SystemPodScale != 1 {
				continue
			}
			c := r.Cache()
			s.x = append(s.x, float64(p.Counts.Sessions))
			s.med, s.lo, s.hi = append(s.med, c.Median/mib), append(s.lo, c.Min/mib), append(s.hi, c.Max/mib)
		}
		if len(s.x) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// axisMax rounds v up to a whole number of tick steps.
func axisMax(v float64) float64 {
	step := niceCeil(v / 6)
	return math.Ceil(v/step) * step
}

// ticks are round values from 0 to max, six steps or so.
func ticks(max float64) []float64 {
	step := niceCeil(max / 6)
	var out []float64
	for t := 0.0; t <= max+step/1e6; t += step {
		out = append(out, t)
	}
	return out
}

func label(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// boxedText writes s on a white box, legible over the lines it crosses.
func boxedText(img *image.RGBA, x, y int, s string, c color.Color) {
	draw.Draw(img, image.Rect(x-1, y-11, x+7*len(s)+1, y+3), image.White, image.Point{}, draw.Src)
	text(img, x, y, s, c)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := min(y0, y1); y <= max(y0, y1); y++ {
		img.Set(x, y, c)
	}
}

func rect(img *image.RGBA, x, y int, c color.Color) {
	draw.Draw(img, image.Rect(x-markerHalf, y-markerHalf, x+markerHalf+1, y+markerHalf+1), image.NewUniform(c), image.Point{}, draw.Src)
}

// line draws a lineWidth-thick segment (Bresenham, thickened vertically).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		for w := range lineWidth {
			img.Set(x0, y0+w, c)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
