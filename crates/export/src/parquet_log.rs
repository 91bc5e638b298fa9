//! The deal event log as one Parquet file: the envelope in typed columns (timestamps in
//! microseconds UTC), what changed as JSON, written in row groups as the log streams in.

use std::path::Path;
use std::sync::Arc;

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use pipewise_core::opportunity::OpportunityEvent;
use pipewise_store::StoreError;

use crate::csv_rows::change_data;
use crate::{ExportError, create, failed};

const SCHEMA: &str = "
message opportunity_event {
    REQUIRED BYTE_ARRAY opportunity_id (STRING);
    REQUIRED INT32 seq;
    REQUIRED BYTE_ARRAY kind (STRING);
    REQUIRED BYTE_ARRAY actor_id (STRING);
    REQUIRED INT64 effective_at (TIMESTAMP(MICROS,true));
    REQUIRED INT64 recorded_at (TIMESTAMP(MICROS,true));
    REQUIRED INT32 process_version;
    REQUIRED BYTE_ARRAY data (JSON);
}";

/// Events per row group: large enough for column statistics to help readers skip.
const ROW_GROUP: usize = 250_000;

/// Columns of one row group, filled as events arrive.
#[derive(Default)]
struct Columns {
    opportunity_id: Vec<ByteArray>,
    seq: Vec<i32>,
    kind: Vec<ByteArray>,
    actor_id: Vec<ByteArray>,
    effective_at: Vec<i64>,
    recorded_at: Vec<i64>,
    process_version: Vec<i32>,
    data: Vec<ByteArray>,
}

impl Columns {
    fn push(&mut self, event: &OpportunityEvent) {
        let text = |s: String| ByteArray::from(s.into_bytes());
        self.opportunity_id
            .push(text(event.opportunity_id.to_string()));
        self.seq.push(i32::try_from(event.seq).unwrap_or(i32::MAX));
        self.kind
            .push(text(event.change.kind().as_str().to_owned()));
        self.actor_id.push(text(event.actor_id.to_string()));
        self.effective_at
            .push(event.effective_at.timestamp_micros());
        self.recorded_at.push(event.recorded_at.timestamp_micros());
        self.process_version
            .push(i32::try_from(event.process_version.0).unwrap_or(i32::MAX));
        self.data.push(text(change_data(event)));
    }

    fn len(&self) -> usize {
        self.seq.len()
    }
}

/// Writes every event of `log` to `file`; returns how many.
pub async fn write(
    mut log: BoxStream<'_, Result<OpportunityEvent, StoreError>>,
    file: &Path,
) -> Result<u64, ExportError> {
    let parquet = |e: parquet::errors::ParquetError| failed(file, e);
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(parquet)?);
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(create(file)?, schema, properties).map_err(parquet)?;
    let mut columns = Columns::default();
    let mut count = 0;
    while let Some(event) = log.try_next().await? {
        columns.push(&event);
        count += 1;
        if columns.len() == ROW_GROUP {
            write_group(&mut writer, std::mem::take(&mut columns)).map_err(parquet)?;
        }
    }
    if columns.len() > 0 {
        write_group(&mut writer, columns).map_err(parquet)?;
    }
    writer.close().map_err(parquet)?;
    Ok(count)
}

fn write_group<W: std::io::Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    columns: Columns,
) -> parquet::errors::Result<()> {
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut column) = group.next_column()? {
        match index {
            0 => {
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&columns.opportunity_id, None, None)?
            }
            1 => column
                .typed::<Int32Type>()
                .write_batch(&columns.seq, None, None)?,
            2 => column
                .typed::<ByteArrayType>()
                .write_batch(&columns.kind, None, None)?,
            3 => column
                .typed::<ByteArrayType>()
                .write_batch(&columns.actor_id, None, None)?,
            4 => column
                .typed::<Int64Type>()
                .write_batch(&columns.effective_at, None, None)?,
            5 => column
                .typed::<Int64Type>()
                .write_batch(&columns.recorded_at, None, None)?,
            6 => column
                .typed::<Int32Type>()
                .write_batch(&columns.process_version, None, None)?,
            _ => column
                .typed::<ByteArrayType>()
                .write_batch(&columns.data, None, None)?,
        };
        column.close()?;
        index += 1;
    }
    group.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    use pipewise_core::ids::{OpportunityId, UserId};
    use pipewise_core::opportunity::{Change, StageChanged};
    use pipewise_core::process::{ProcessVersion, StageKey};

    use super::*;

    fn moved(seq: u32, to: &str) -> OpportunityEvent {
        OpportunityEvent {
            opportunity_id: OpportunityId::from_uuid(uuid::Uuid::from_u128(7)),
            seq,
            actor_id: UserId::from_uuid(uuid::Uuid::from_u128(1)),
            effective_at: Utc.with_ymd_and_hms(2025, 3, seq, 9, 0, 0).unwrap(),
            recorded_at: Utc.with_ymd_and_hms(2025, 3, 20, 0, 0, 0).unwrap(),
            process_version: ProcessVersion(2),
            change: Change::StageChanged(StageChanged {
                from: StageKey::parse("qualified").unwrap(),
                to: StageKey::parse(to).unwrap(),
                reason: None,
                next_step: None,
            }),
        }
    }

    #[tokio::test]
    async fn the_event_log_reads_back_column_by_column() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("events.parquet");
        let events = vec![Ok(moved(2, "business_case")), Ok(moved(3, "evaluating"))];
        let written = write(Box::pin(futures_util::stream::iter(events)), &file)
            .await
            .unwrap();
        assert_eq!(written, 2);

        let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let second = &rows[1];
        assert_eq!(
            second.get_string(0).unwrap(),
            "00000000-0000-0000-0000-000000000007"
        );
        assert_eq!(second.get_int(1).unwrap(), 3);
        assert_eq!(second.get_string(2).unwrap(), "stage_changed");
        assert_eq!(
            second.get_timestamp_micros(4).unwrap(),
            Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0)
                .unwrap()
                .timestamp_micros()
        );
        assert_eq!(second.get_int(6).unwrap(), 2);
        assert_eq!(
            second.get_string(7).unwrap(),
            r#"{"from":"qualified","next_step":null,"reason":null,"to":"evaluating"}"#
        );
    }
}
