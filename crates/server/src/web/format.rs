//! Numbers as a sales team reads them: `$1.2M`, `$850k`, `62.5%`, `14 days`, `3 Dec 2026`.

use chrono::NaiveDate;
use pipewise_core::money::Currency;
use pipewise_core::process::ForecastCategory;

/// A whole amount in `currency`'s major units, from minor units (rounded toward zero).
fn major(minor: i64, currency: Currency) -> f64 {
    minor as f64 / 10_f64.powi(i32::from(currency.minor_digits()))
}

/// `$`, `€` or `£` before the number for the common currencies, after the sign; the ISO
/// code after the number otherwise.
fn with_currency(negative: bool, number: &str, currency: Currency) -> String {
    let sign = if negative { "-" } else { "" };
    match currency.code() {
        "USD" => format!("{sign}${number}"),
        "EUR" => format!("{sign}€{number}"),
        "GBP" => format!("{sign}£{number}"),
        code => format!("{sign}{number} {code}"),
    }
}

/// An amount at a glance: `$1.2M`, `$850k`, `$9,400`.
pub(crate) fn money(minor: i64, currency: Currency) -> String {
    let value = major(minor, currency);
    let size = value.abs();
    let number = if size >= 999_950.0 {
        format!("{:.1}M", size / 1_000_000.0)
    } else if size >= 10_000.0 {
        format!("{:.0}k", size / 1_000.0)
    } else {
        grouped(size.round() as u64)
    };
    with_currency(value < 0.0, &number, currency)
}

/// An amount to the whole unit: `$1,234,567`.
pub(crate) fn money_exact(minor: i64, currency: Currency) -> String {
    let value = major(minor, currency);
    with_currency(value < 0.0, &grouped(value.abs().round() as u64), currency)
}

/// `1234567` as `1,234,567`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate in [0, 1] as a percentage with one decimal; `—` when there is none.
pub(crate) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// `3 Dec 2026`.
pub(crate) fn date(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// A forecast category as sales teams say it: `Best Case`.
pub(crate) fn category(category: ForecastCategory) -> &'static str {
    match category {
        ForecastCategory::Pipeline => "Pipeline",
        ForecastCategory::BestCase => "Best Case",
        ForecastCategory::Commit => "Commit",
        ForecastCategory::Closed => "Closed",
        ForecastCategory::Omitted => "Omitted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_at_a_glance() {
        let usd = Currency::USD;
        assert_eq!(money(120_000_000, usd), "$1.2M");
        assert_eq!(money(85_000_000, usd), "$850k");
        assert_eq!(money(940_000, usd), "$9,400");
        assert_eq!(money(99_999_900, usd), "$1.0M");
        assert_eq!(money(-4_500_000, usd), "-$45k");
        assert_eq!(money(1_500_000, "JPY".parse().unwrap()), "1.5M JPY");
        assert_eq!(money_exact(123_456_789, Currency::EUR), "€1,234,568");
    }

    #[test]
    fn rates_and_days_read_as_people_write_them() {
        assert_eq!(percent(Some(0.625)), "62.5%");
        assert_eq!(percent(None), "—");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()),
            "3 Dec 2026"
        );
    }
}
