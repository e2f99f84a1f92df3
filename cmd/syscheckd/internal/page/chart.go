package page

import (
	"fmt"
	"math"
	"time"

	"github.com/syscheckd/syscheckd/probe/history"
)

// Chart is a latency chart in SVG coordinates, y growing downwards. It holds
// numbers only: the page's template draws them, so html/template escapes all.
type Chart struct {
	Width, Height float64
	// Line joins the calls that returned, as an SVG polyline's points.
	Line   string
	Points []Point
	// Max labels the top of the y axis (the bottom is 0); From and To the x axis.
	Max      string
	From, To string
}

// Point is one entry: failures drawn apart, unreturned calls on the x axis.
type Point struct {
	X, Y   float64
	Failed bool
	Title  string
}

const (
	marginLeft   = 60
	marginRight  = 10
	marginTop    = 10
	marginBottom = 20
)

// NewChart lays out the latency of entries (oldest first) in width x height,
// linear from 0 to the largest latency so that a slow outlier stands out.
func NewChart(entries []history.Entry, width, height float64) Chart {
	c := Chart{Width: width, Height: height, Max: "0"}
	if len(entries) == 0 {
		return c
	}
	var top time.Duration
	for _, e := range entries {
		if e.Returned {
			top = max(top, e.Latency)
		}
	}
	c.Max = short(top).String()
	c.From = entries[0].Time.Format(time.TimeOnly)
	c.To = entries[len(entries)-1].Time.Format(time.TimeOnly)
	plotW := width - marginLeft - marginRight
	plotH := height - marginTop - marginBottom
	step := 0.0
	if len(entries) > 1 {
		step = plotW / float64(len(entries)-1)
	}
	for i, e := range entries {
		p := Point{X: round(marginLeft + float64(i)*step), Y: marginTop + plotH, Failed: e.Failed()}
		if e.Returned && top > 0 {
			p.Y = round(marginTop + plotH*(1-float64(e.Latency)/float64(top)))
		}
		p.Title = fmt.Sprintf("%s %s", e.Time.Format(time.TimeOnly), e.Class)
		if e.Returned {
			p.Title += " " + e.Latency.String()
			if c.Line != "" {
				c.Line += " "
			}
			c.Line += fmt.Sprintf("%g,%g", p.X, p.Y)
		}
		c.Points = append(c.Points, p)
	}
	return c
}

// Left, Right, Top and Bottom are the plot area's edges, for the axes.
func (c Chart) Left() float64   { return marginLeft }
func (c Chart) Right() float64  { return c.Width - marginRight }
func (c Chart) Top() float64    { return marginTop }
func (c Chart) Bottom() float64 { return c.Height - marginBottom }

func round(f float64) float64 { return math.Round(f*10) / 10 }

// short rounds d to three significant digits, for an axis label.
func short(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 1000 {
		unit *= 10
	}
	return d.Round(unit)
}
