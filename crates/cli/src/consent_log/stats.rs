//! `formseal consent-log --stats`: the opt-in statistics a site reports, per form, purpose and
//! day, week or month, counted from the opened consent and withdrawal records. Only aggregates
//! leave this file, and a cell of fewer than [`MIN_DECISIONS`] decisions shows none of its
//! figures. Opening the records and following each subject's history is `consent_log.rs`'s job.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow};
use formseal_core::consent::ConsentMethod;
use formseal_core::envelope::Envelope;
use formseal_core::time::Date;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::shown;

/// A cell (one purpose in one period) counting fewer decisions than this shows `<5` instead of
/// its figures, so that no statistic describes one or a few visitors.
pub(crate) const MIN_DECISIONS: u64 = 5;

/// What a suppressed figure is shown as, in every format.
pub(crate) const SUPPRESSED: &str = "<5";

/// The periods statistics are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Period {
    /// Calendar days (UTC), `2026-11-24`.
    Day,
    /// ISO 8601 weeks, Monday to Sunday, `2026-W48`.
    Week,
    /// Calendar months, `2026-11`.
    Month,
}

impl Period {
    /// The name on the command line and the heading of the period column.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The period `date` falls in, written so that text order is time order.
    fn of(self, date: Date) -> String {
        match self {
            Self::Day => date.to_string(),
            Self::Week => {
                let (year, week) = iso_week(date);
                format!("{year:04}-W{week:02}")
            }
            Self::Month => format!("{:04}-{:02}", date.year, date.month),
        }
    }
}

/// The ISO 8601 week-numbering year and week of `date`: the week belongs to the year of its
/// Thursday.
fn iso_week(date: Date) -> (i32, i64) {
    let days = date.days_since_epoch();
    // 1970-01-01 was a Thursday; Monday is 0.
    let weekday = (days + 3).rem_euclid(7);
    let thursday = days - weekday + 3;
    let year = Date::from_unix(thursday * 86_400).year;
    let first = Date {
        year,
        month: 1,
        day: 1,
    };
    (year, (thursday - first.days_since_epoch()) / 7 + 1)
}

/// How the statistics are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatsFormat {
    /// Aligned columns for people, shares in per cent.
    Table,
    /// RFC 4180 with a header row, shares as fractions.
    Csv,
    /// One JSON document: the period, the threshold and the rows.
    Json,
}

/// The figures of one purpose in one period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    /// Records that granted or refused the purpose.
    decisions: u64,
    granted: u64,
    /// Records in which a subject refused the purpose after granting it.
    withdrawals: u64,
    /// Refusals recorded from the browser's Global Privacy Control (method `gpc`).
    gpc_refusals: u64,
    /// Grants from an embed's placeholder (method `placeholder`).
    placeholder_grants: u64,
}

/// Opt-in statistics being counted.
#[derive(Debug)]
pub(crate) struct Stats {
    by: Period,
    /// By form, purpose and period.
    cells: BTreeMap<(String, String, String), Counts>,
}

/// The columns of the CSV and JSON rows; the table shows the same under shorter headings.
const COLUMNS: [&str; 10] = [
    "form",
    "purpose",
    "period",
    "decisions",
    "granted_share",
    "refused_share",
    "withdrawals",
    "gpc_refusals",
    "placeholder_grants",
    "suppressed",
];

impl Stats {
    pub(crate) fn new(by: Period) -> Self {
        Self {
            by,
            cells: BTreeMap::new(),
        }
    }

    /// Counts one record; `withdrawn` are the purposes its subject had granted before and
    /// refuses in it.
    pub(crate) fn add(&mut self, record: &Envelope, withdrawn: &[&str]) -> anyhow::Result<()> {
        let date =
            record.at.get(..10).and_then(Date::parse).ok_or_else(|| {
                anyhow!("record {}: its time {:?} has no date", record.id, record.at)
            })?;
        let period = self.by.of(date);
        let consent = &record.consent;
        let decided = consent
            .granted
            .iter()
            .map(|p| (p, true))
            .chain(consent.refused.iter().map(|p| (p, false)));
        for (purpose, granted) in decided {
            let key = (record.form.clone(), purpose.clone(), period.clone());
            let counts = self.cells.entry(key).or_default();
            counts.decisions += 1;
            counts.granted += u64::from(granted);
            counts.withdrawals += u64::from(withdrawn.contains(&purpose.as_str()));
            counts.gpc_refusals +=
                u64::from(!granted && consent.method == Some(ConsentMethod::Gpc));
            counts.placeholder_grants +=
                u64::from(granted && consent.method == Some(ConsentMethod::Placeholder));
        }
        Ok(())
    }

    /// The rows as JSON values in the order of [`COLUMNS`]: counts are numbers, or `"<5"` in a
    /// suppressed cell; shares are fractions to four places, or null in a suppressed cell.
    fn rows(&self) -> Vec<Vec<Value>> {
        self.cells
            .iter()
            .map(|((form, purpose, period), counts)| {
                let suppressed = counts.decisions < MIN_DECISIONS;
                let count = |n: u64| {
                    if suppressed {
                        json!(SUPPRESSED)
                    } else {
                        json!(n)
                    }
                };
                let share = |n: u64| {
                    if suppressed {
                        Value::Null
                    } else {
                        json!(rounded_share(n, counts.decisions))
                    }
                };
                vec![
                    json!(form),
                    json!(purpose),
                    json!(period),
                    count(counts.decisions),
                    share(counts.granted),
                    share(counts.decisions - counts.granted),
                    count(counts.withdrawals),
                    count(counts.gpc_refusals),
                    count(counts.placeholder_grants),
                    json!(suppressed),
                ]
            })
            .collect()
    }

    /// Writes the statistics in `format`.
    pub(crate) fn write(&self, out: &mut dyn Write, format: StatsFormat) -> anyhow::Result<()> {
        let rows = self.rows();
        match format {
            StatsFormat::Json => {
                let rows: Vec<Value> = rows
                    .into_iter()
                    .map(|row| {
                        Value::Object(COLUMNS.map(String::from).into_iter().zip(row).collect())
                    })
                    .collect();
                let document = json!({
                    "by": self.by.name(),
                    "min_decisions": MIN_DECISIONS,
                    "rows": rows,
                });
                serde_json::to_writer_pretty(&mut *out, &document)?;
                out.write_all(b"\n")?;
            }
            StatsFormat::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(&mut *out);
                writer.write_record(COLUMNS)?;
                for row in &rows {
                    writer.write_record(row.iter().map(crate::table::cell))?;
                }
                writer.flush()?;
            }
            StatsFormat::Table => self.write_table(out, &rows)?,
        }
        Ok(())
    }

    /// Aligned columns: text to the left, figures to the right, shares in per cent.
    fn write_table(&self, out: &mut dyn Write, rows: &[Vec<Value>]) -> anyhow::Result<()> {
        let header = [
            "form",
            "purpose",
            self.by.name(),
            "decisions",
            "granted",
            "refused",
            "withdrawals",
            "gpc refusals",
            "placeholder grants",
        ];
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row[..header.len()]
                    .iter()
                    .enumerate()
                    .map(|(column, value)| match (column, value) {
                        (4 | 5, Value::Number(share)) => {
                            format!("{:.1}%", share.as_f64().unwrap_or(0.0) * 100.0)
                        }
                        (4 | 5, _) => "-".to_owned(),
                        _ => crate::table::cell(value),
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                cells
                    .iter()
                    .map(|row| row[c].chars().count())
                    .chain([header[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |out: &mut dyn Write, row: &[&str]| -> std::io::Result<()> {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (text, &width))| {
                    if c < 3 {
                        format!("{text:<width$}")
                    } else {
                        format!("{text:>width$}")
                    }
                })
                .collect();
            writeln!(out, "{}", padded.join("  ").trim_end())
        };
        line(out, &header)?;
        for row in &cells {
            line(out, &row.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        Ok(())
    }

    /// Draws the opt-in rate (the share granted) of every purpose over the periods as an SVG
    /// chart. A suppressed cell is left out of its line: the chart shows no more than the table.
    pub(crate) fn chart(&self, path: &Path) -> anyhow::Result<()> {
        let periods: Vec<&str> = self
            .cells
            .keys()
            .map(|(_, _, period)| period.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let forms: BTreeSet<&str> = self
            .cells
            .keys()
            .map(|(form, _, _)| form.as_str())
            .collect();
        let mut series: BTreeMap<String, Vec<(i32, f64)>> = BTreeMap::new();
        for ((form, purpose, period), counts) in &self.cells {
            // One banner is the usual case; with several forms a line is named by both.
            let name = if forms.len() > 1 {
                format!("{form}: {purpose}")
            } else {
                purpose.clone()
            };
            let points = series.entry(name).or_default();
            if counts.decisions >= MIN_DECISIONS {
                let x = periods
                    .binary_search(&period.as_str())
                    .map_or(0, |i| i32::try_from(i).unwrap_or(i32::MAX));
                points.push((x, rounded_share(counts.granted, counts.decisions) * 100.0));
            }
        }
        draw(path, self.by, &periods, &series)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("cannot draw the chart into {}", shown(path)))
    }
}

/// `part / whole`, rounded to four places (a hundredth of a per cent).
fn rounded_share(part: u64, whole: u64) -> f64 {
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

/// The most periods labelled on the x axis; longer ranges label every second, third... one.
const MAX_LABELS: usize = 12;

fn draw(
    path: &Path,
    by: Period,
    periods: &[&str],
    series: &BTreeMap<String, Vec<(i32, f64)>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    // Period i is drawn at x = i, with a period's width of room on either side.
    let count = i32::try_from(periods.len()).unwrap_or(i32::MAX);
    let step = periods.len().div_ceil(MAX_LABELS).max(1);
    let labelled: Vec<i32> = (0..count).step_by(step).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Opt-in rate by {}", by.name()), ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(56)
        .y_label_area_size(64)
        .build_cartesian_2d((-1..count).with_key_points(labelled), 0.0..100.0)?;
    let period_label = |x: &i32| {
        usize::try_from(*x)
            .ok()
            .and_then(|i| periods.get(i))
            .map_or_else(String::new, |p| (*p).to_owned())
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_max_light_lines(1)
        .x_desc(by.name())
        .y_desc("opt-in rate (share granted, %)")
        .x_label_formatter(&period_label)
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn weeks_are_iso_weeks_belonging_to_the_year_of_their_thursday() {
        assert_eq!(Period::Week.of(date("2026-11-24")), "2026-W48");
        // Monday and Sunday of one week.
        assert_eq!(Period::Week.of(date("2026-11-23")), "2026-W48");
        assert_eq!(Period::Week.of(date("2026-11-29")), "2026-W48");
        assert_eq!(Period::Week.of(date("2026-11-30")), "2026-W49");
        // 2021-01-03 is a Sunday of 2020's week 53; 2024-12-30 a Monday of 2025's week 1.
        assert_eq!(Period::Week.of(date("2021-01-03")), "2020-W53");
        assert_eq!(Period::Week.of(date("2024-12-30")), "2025-W01");
        assert_eq!(Period::Week.of(date("2026-01-01")), "2026-W01");
    }

    #[test]
    fn days_and_months_are_written_to_sort_in_time_order() {
        assert_eq!(Period::Day.of(date("2026-03-04")), "2026-03-04");
        assert_eq!(Period::Month.of(date("2026-03-04")), "2026-03");
    }

    #[test]
    fn shares_are_rounded_to_a_hundredth_of_a_per_cent() {
        assert_eq!(rounded_share(2, 3), 0.6667);
        assert_eq!(rounded_share(5, 5), 1.0);
    }
}
