//! Avro decoding of platform events: the binary datum (no container header) read with the
//! writer schema, turned into a JSON object for [`crate::normalize_record`].

use apache_avro::types::Value;

use crate::error::NormalizeError;

/// Largest event payload decoded, in bytes.
pub(crate) const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Decodes one event payload into its record fields (nullable unions unwrapped).
///
/// # Errors
/// [`NormalizeError::Avro`] when the bytes do not match the schema or are not a record.
pub(crate) fn decode_record(
    schema: &apache_avro::Schema,
    payload: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, NormalizeError> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(NormalizeError::Avro {
            reason: "payload larger than 1 MiB",
        });
    }
    let mut reader = payload;
    let value = apache_avro::from_avro_datum(schema, &mut reader, None).map_err(|_| {
        NormalizeError::Avro {
            reason: "the payload does not match its schema",
        }
    })?;
    match to_json(value) {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(NormalizeError::Avro {
            reason: "the event is not a record",
        }),
    }
}

fn to_json(v: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::Int(i) | Value::Date(i) | Value::TimeMillis(i) => J::from(i),
        Value::Long(i)
        | Value::TimeMicros(i)
        | Value::TimestampMillis(i)
        | Value::TimestampMicros(i)
        | Value::LocalTimestampMillis(i)
        | Value::LocalTimestampMicros(i) => J::from(i),
        Value::Float(f) => J::from(f64::from(f)),
        Value::Double(f) => J::from(f),
        Value::String(s) | Value::Enum(_, s) => J::String(s),
        Value::Uuid(u) => J::String(u.to_string()),
        Value::Bytes(b) | Value::Fixed(_, b) => J::Array(b.into_iter().map(J::from).collect()),
        Value::Union(_, inner) => to_json(*inner),
        Value::Array(items) => J::Array(items.into_iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
        Value::Record(fields) => {
            J::Object(fields.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"Ev__e","namespace":"com.sforce.eventbus","fields":[
        {"name":"CreatedDate","type":"long"},
        {"name":"CreatedById","type":"string"},
        {"name":"ns__EventType__c","type":["null","string"],"default":null},
        {"name":"ns__Payload__c","type":["null","string"],"default":null}]}"#;

    #[test]
    fn decodes_a_record_and_unwraps_unions() {
        let schema = apache_avro::Schema::parse_str(SCHEMA).unwrap();
        let mut rec = apache_avro::types::Record::new(&schema).unwrap();
        rec.put("CreatedDate", 1_714_668_303_002_i64);
        rec.put("CreatedById", "005");
        rec.put(
            "ns__EventType__c",
            Value::Union(1, Box::new(Value::String("Interaction".into()))),
        );
        rec.put("ns__Payload__c", Value::Union(0, Box::new(Value::Null)));
        let bytes = apache_avro::to_avro_datum(&schema, rec).unwrap();
        let m = decode_record(&schema, &bytes).unwrap();
        assert_eq!(m["CreatedDate"], 1_714_668_303_002_i64);
        assert_eq!(m["ns__EventType__c"], "Interaction");
        assert!(m["ns__Payload__c"].is_null());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let schema = apache_avro::Schema::parse_str(SCHEMA).unwrap();
        assert!(decode_record(&schema, &[0xff, 0xff, 0xff]).is_err());
        assert!(decode_record(&schema, &[]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let schema = apache_avro::Schema::parse_str(SCHEMA).unwrap();
            let _ = decode_record(&schema, &bytes);
        }
    }
}
