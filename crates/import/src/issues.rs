//! What an import could not take, row by row, and what it had to infer.

use std::io::Write;

/// A row, or one value of it, that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub file: String,
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The column at fault; empty when the whole row is.
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Writes `issues` as CSV with the columns file, line, column, value, reason.
pub fn write_report(issues: &[Issue], out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["file", "line", "column", "value", "reason"])?;
    for issue in issues {
        writer.write_record([
            issue.file.as_str(),
            &issue.line.to_string(),
            &issue.column,
            &issue.value,
            &issue.reason,
        ])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_quotes_values_that_need_it() {
        let issues = [Issue {
            file: "Opportunity.csv".into(),
            line: 7,
            column: "Amount".into(),
            value: "12,5".into(),
            reason: "an amount such as 12500.00".into(),
        }];
        let mut out = Vec::new();
        write_report(&issues, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "file,line,column,value,reason\nOpportunity.csv,7,Amount,\"12,5\",an amount such as 12500.00\n"
        );
    }
}
