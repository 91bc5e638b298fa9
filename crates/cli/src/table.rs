//! Tables as the commands print them: cells that know how to show themselves aligned for
//! reading and raw for CSV.

use std::io::Write;

use pipewise_core::money::{Currency, Money};

/// One value of a table.
pub enum Cell {
    Text(String),
    Count(u64),
    /// Minor units of a currency.
    Money(i64, Currency),
    Share(Option<f64>),
    Days(Option<f64>),
    Times(Option<f64>),
    Empty,
}

impl Cell {
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(minor, currency) => Money::new(*minor, *currency).to_string(),
            Cell::Share(s) => s.map_or("—".to_owned(), |v| format!("{:.1}%", v * 100.0)),
            Cell::Days(d) => d.map_or("—".to_owned(), |v| format!("{v:.1}")),
            Cell::Times(x) => x.map_or("—".to_owned(), |v| format!("{v:.2}×")),
            Cell::Empty => String::new(),
        }
    }

    pub fn raw(&self) -> String {
        let decimal = |x: &Option<f64>| x.map(|v| format!("{v:.6}")).unwrap_or_default();
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(minor, _) => minor.to_string(),
            Cell::Share(x) | Cell::Times(x) => decimal(x),
            Cell::Days(d) => d.map(|v| format!("{v:.4}")).unwrap_or_default(),
            Cell::Empty => String::new(),
        }
    }

    fn is_text(&self) -> bool {
        matches!(self, Cell::Text(_))
    }
}

/// Rows under named columns (snake_case, as in CSV).
pub struct Table {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn write_csv(&self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(self.columns)?;
        for row in &self.rows {
            csv.write_record(row.iter().map(Cell::raw))?;
        }
        csv.flush()?;
        Ok(())
    }
}

pub fn write_aligned(out: &mut impl Write, table: &Table) -> anyhow::Result<()> {
    let header: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            c.trim_end_matches("_minor")
                .replace('_', " ")
                .to_uppercase()
        })
        .collect();
    let shown: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(Cell::shown).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            shown
                .iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Text columns align left, numbers right; judged by the first row.
    let left: Vec<bool> = (0..header.len())
        .map(|c| table.rows.first().is_none_or(|r| r[c].is_text()))
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = " ".repeat(widths[c].saturating_sub(v.chars().count()));
                if left[c] {
                    format!("{v}{pad}")
                } else {
                    format!("{pad}{v}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &shown {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

pub fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}
