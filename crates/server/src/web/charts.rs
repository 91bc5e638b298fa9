//! Charts drawn on the server as SVG: labelled, with their unit on every value, readable
//! without a script, and named for screen readers (`role="img"` with a title and a
//! description). Four kinds cover the dashboards: horizontal bars against a target band or
//! a reference line, columns over periods, lines over weeks, and a waterfall that starts at
//! one total and walks to the other.

use maud::{Markup, html};
use pipewise_core::money::Currency;

use super::format::{money, percent};

/// What a chart's numbers are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    /// Corporate minor units.
    Money(Currency),
    /// A rate in [0, 1].
    Rate,
    Days,
    /// A multiple, such as coverage: `3.2×`.
    Times,
    Count,
}

impl Unit {
    pub(crate) fn show(self, value: f64) -> String {
        match self {
            Unit::Money(currency) => money(value.round() as i64, currency),
            Unit::Rate => percent(Some(value)),
            Unit::Days => format!("{value:.0} days"),
            Unit::Times => format!("{value:.1}×"),
            Unit::Count => super::format::grouped(value.round().max(0.0) as u64),
        }
    }
}

/// One bar, with the range it should fall in, if one is set.
pub(crate) struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub band: Option<(f64, f64)>,
}

/// A labelled vertical line across a bar chart: "3× coverage".
pub(crate) struct Reference {
    pub value: f64,
    pub label: String,
}

const WIDTH: f64 = 820.0;
const LABEL_WIDTH: f64 = 330.0;
const ROW: f64 = 30.0;
const TOP: f64 = 24.0;

/// The largest value a chart must show, with a little headroom; never zero.
fn scale_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max > 0.0 { max * 1.1 } else { 1.0 }
}

/// The frame of every chart.
fn frame(id: &str, title: &str, description: &str, height: f64, body: Markup) -> Markup {
    let (title_id, description_id) = (format!("{id}-title"), format!("{id}-desc"));
    html! {
        figure.chart id=(id) {
            svg role="img" viewBox={ "0 0 " (WIDTH) " " (height) } width="100%"
                aria-labelledby={ (title_id) " " (description_id) } {
                title id=(title_id) { (title) }
                desc id=(description_id) { (description) }
                (body)
            }
            figcaption { (title) }
        }
    }
}

/// Horizontal bars, one per label, with each bar's target band behind it.
pub(crate) fn bars(
    id: &str,
    title: &str,
    unit: Unit,
    bars: &[Bar],
    reference: Option<&Reference>,
) -> Markup {
    let max = scale_max(
        bars.iter()
            .flat_map(|b| [b.value.unwrap_or(0.0), b.band.map_or(0.0, |(_, hi)| hi)])
            .chain(reference.map(|r| r.value)),
    );
    let plot = WIDTH - LABEL_WIDTH - 90.0;
    let x = |v: f64| LABEL_WIDTH + plot * (v / max).clamp(0.0, 1.0);
    let height = TOP + ROW * bars.len() as f64 + 10.0;
    let description = bars
        .iter()
        .map(|b| {
            format!(
                "{}: {}",
                b.label,
                b.value.map_or("none".to_owned(), |v| unit.show(v))
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let body = html! {
        @for (i, bar) in bars.iter().enumerate() {
            @let y = TOP + ROW * i as f64;
            text.label x=(LABEL_WIDTH - 8.0) y=(y + 19.0) text-anchor="end" { (bar.label) }
            @if let Some((low, high)) = bar.band {
                rect.band x=(x(low)) y=(y + 3.0) width=((x(high) - x(low)).max(1.0)) height=(ROW - 6.0) {
                    title { "Target " (unit.show(low)) " to " (unit.show(high)) }
                }
            }
            @match bar.value {
                Some(value) => {
                    rect.bar x=(LABEL_WIDTH) y=(y + 8.0) width=((x(value) - LABEL_WIDTH).max(1.0)) height=(ROW - 16.0) {}
                    text.value x=(x(value) + 6.0) y=(y + 19.0) { (unit.show(value)) }
                },
                None => { text.value x=(LABEL_WIDTH + 6.0) y=(y + 19.0) { "no data" } },
            }
        }
        @if let Some(reference) = reference {
            line.reference x1=(x(reference.value)) x2=(x(reference.value)) y1=(TOP - 6.0) y2=(height - 6.0) {}
            text.reference x=(x(reference.value)) y=(TOP - 10.0) text-anchor="middle" { (reference.label) }
        }
    };
    frame(id, title, &description, height, body)
}

/// Vertical columns over labelled periods.
pub(crate) fn columns(
    id: &str,
    title: &str,
    unit: Unit,
    points: &[(String, Option<f64>)],
) -> Markup {
    let height = 240.0;
    let (top, bottom) = (20.0, height - 30.0);
    let max = scale_max(points.iter().filter_map(|p| p.1));
    let slot = (WIDTH - 40.0) / points.len().max(1) as f64;
    let y = |v: f64| bottom - (bottom - top) * (v / max).clamp(0.0, 1.0);
    let description = points
        .iter()
        .map(|(label, v)| format!("{label}: {}", v.map_or("none".to_owned(), |v| unit.show(v))))
        .collect::<Vec<_>>()
        .join("; ");
    let body = html! {
        line.axis x1="20" x2=(WIDTH - 20.0) y1=(bottom) y2=(bottom) {}
        @for (i, (label, value)) in points.iter().enumerate() {
            @let left = 20.0 + slot * i as f64;
            @let center = left + slot / 2.0;
            @if let Some(value) = value {
                rect.bar x=(left + slot * 0.2) y=(y(*value)) width=(slot * 0.6) height=((bottom - y(*value)).max(1.0)) {}
                text.value x=(center) y=(y(*value) - 5.0) text-anchor="middle" { (unit.show(*value)) }
            }
            text.label x=(center) y=(bottom + 18.0) text-anchor="middle" { (label) }
        }
    };
    frame(id, title, &description, height, body)
}

/// One line of a line chart.
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Lines over shared x labels, with a legend.
pub(crate) fn lines(
    id: &str,
    title: &str,
    unit: Unit,
    labels: &[String],
    series: &[Series],
) -> Markup {
    let height = 280.0;
    let (left, right, top, bottom) = (70.0, WIDTH - 40.0, 20.0, height - 60.0);
    let max = scale_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
    let step = (right - left) / (labels.len().max(2) - 1) as f64;
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| bottom - (bottom - top) * (v / max).clamp(0.0, 1.0);
    let description = series
        .iter()
        .map(|s| {
            let last = s.values.iter().rev().flatten().next();
            format!(
                "{}: latest {}",
                s.name,
                last.map_or("none".to_owned(), |v| unit.show(*v))
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let every = labels.len().div_ceil(8).max(1);
    let body = html! {
        line.axis x1=(left) x2=(right) y1=(bottom) y2=(bottom) {}
        @for tick in [0.0, 0.5, 1.0] {
            text.label x=(left - 6.0) y=(y(max / 1.1 * tick) + 4.0) text-anchor="end" { (unit.show(max / 1.1 * tick)) }
        }
        @for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
            text.label x=(x(i)) y=(bottom + 16.0) text-anchor="middle" { (label) }
        }
        @for (n, s) in series.iter().enumerate() {
            @let points: Vec<String> = s.values.iter().enumerate()
                .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
            polyline class={ "series s" (n) } points=(points.join(" ")) fill="none" {}
            rect class={ "swatch s" (n) } x=(left + 150.0 * n as f64) y=(height - 22.0) width="12" height="12" {}
            text.label x=(left + 150.0 * n as f64 + 16.0) y=(height - 12.0) { (s.name) }
        }
    };
    frame(id, title, &description, height, body)
}

/// A waterfall: the first and last steps are totals; those between are changes, drawn from
/// where the running total stands.
pub(crate) fn waterfall(
    id: &str,
    title: &str,
    currency: Currency,
    start: (&str, i64),
    changes: &[(&str, i64)],
    end: (&str, i64),
) -> Markup {
    let height = 300.0;
    let (top, bottom) = (24.0, height - 48.0);
    let mut running = start.1;
    let mut extents = vec![0, start.1, end.1];
    for (_, change) in changes {
        running += change;
        extents.push(running);
    }
    let (low, high) = (
        extents.iter().copied().min().unwrap_or(0) as f64,
        extents.iter().copied().max().unwrap_or(0) as f64 * 1.1,
    );
    let span = (high - low).max(1.0);
    let y = |v: f64| bottom - (bottom - top) * ((v - low) / span);
    let steps = changes.len() + 2;
    let slot = (WIDTH - 20.0) / steps as f64;
    let unit = Unit::Money(currency);
    let description = format!(
        "{} {}; {}; {} {}",
        start.0,
        unit.show(start.1 as f64),
        changes
            .iter()
            .map(|(l, c)| format!("{l} {}", unit.show(*c as f64)))
            .collect::<Vec<_>>()
            .join("; "),
        end.0,
        unit.show(end.1 as f64)
    );
    let mut bars = Vec::with_capacity(steps);
    bars.push((start.0, 0, start.1, "total"));
    let mut at = start.1;
    for (label, change) in changes {
        bars.push((
            label,
            at,
            at + change,
            if *change >= 0 { "up" } else { "down" },
        ));
        at += change;
    }
    bars.push((end.0, 0, end.1, "total"));
    let body = html! {
        line.axis x1="10" x2=(WIDTH - 10.0) y1=(y(0.0)) y2=(y(0.0)) {}
        @for (i, (label, from, to, kind)) in bars.iter().enumerate() {
            @let left = 10.0 + slot * i as f64;
            @let (upper, lower) = (y((*from).max(*to) as f64), y((*from).min(*to) as f64));
            rect class={ "step " (kind) } x=(left + slot * 0.15) y=(upper) width=(slot * 0.7) height=((lower - upper).max(1.0)) {}
            text.value x=(left + slot / 2.0) y=(upper - 5.0) text-anchor="middle" {
                @if *kind == "total" { (unit.show(*to as f64)) } @else { (signed(unit, to - from)) }
            }
            text.label x=(left + slot / 2.0) y=(bottom + 18.0) text-anchor="middle" { (label) }
        }
    };
    frame(id, title, &description, height, body)
}

fn signed(unit: Unit, change: i64) -> String {
    if change >= 0 {
        format!("+{}", unit.show(change as f64))
    } else {
        unit.show(change as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(svg: &str, element: &str, name: &str) -> Vec<f64> {
        svg.split(&format!("<{element} "))
            .skip(1)
            .filter_map(|tag| {
                let start = tag
                    .find(&format!(" {name}=\""))
                    .map(|i| i + name.len() + 3)?;
                let rest = &tag[start..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect()
    }

    #[test]
    fn bars_are_as_long_as_their_values_and_say_them_with_the_unit() {
        let chart = bars(
            "c",
            "Close rate",
            Unit::Rate,
            &[
                Bar {
                    label: "Q1".into(),
                    value: Some(0.5),
                    band: None,
                },
                Bar {
                    label: "Q2".into(),
                    value: Some(0.25),
                    band: Some((0.2, 0.3)),
                },
            ],
            None,
        )
        .into_string();
        // Widths of the two value bars: half as long for half the value.
        let widths: Vec<f64> = chart
            .split("<rect class=\"bar\"")
            .skip(1)
            .filter_map(|tag| {
                let start = tag.find("width=\"")? + 7;
                tag[start..start + tag[start..].find('"')?].parse().ok()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] / widths[1] - 2.0).abs() < 1e-9, "{widths:?}");
        assert!(chart.contains(">50.0%<") && chart.contains(">25.0%<"));
        assert!(chart.contains("Target 20.0% to 30.0%"));
        assert!(chart.contains("role=\"img\""));
    }

    #[test]
    fn a_waterfall_walks_from_its_start_to_its_end() {
        // 100 + 50 − 30 = 120: the last change's bar ends where the end total's bar ends.
        let chart = waterfall(
            "w",
            "Pipeline",
            Currency::USD,
            ("Start", 1_000_000),
            &[("Created", 500_000), ("Lost", -300_000)],
            ("End", 1_200_000),
        )
        .into_string();
        let ys = attribute(&chart, "rect", "y");
        let heights = attribute(&chart, "rect", "height");
        assert_eq!(ys.len(), 4);
        let bottom_of = |i: usize| ys[i] + heights[i];
        assert!(
            (bottom_of(1) - ys[0]).abs() < 1e-6,
            "created rises from the start total"
        );
        assert!(
            (ys[2] - ys[1]).abs() < 1e-6,
            "lost falls from the top created reached"
        );
        assert!(
            (ys[3] - bottom_of(2)).abs() < 1e-6,
            "the end total is where lost left it"
        );
        assert!(chart.contains(">+$5,000<") && chart.contains(">-$3,000<"));
        assert!(chart.contains(">$10k<") && chart.contains(">$12k<"));
    }
}
