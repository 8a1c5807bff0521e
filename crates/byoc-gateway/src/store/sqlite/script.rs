//! [`Script`]: a write's SQL, built with bound values the way sqlx's `QueryBuilder` builds
//! a query, but run by the writer thread straight on SQLite ([`rusqlite`]); [`Row`]: a row
//! a script returned, decoded by the caller after the commit.

use std::sync::Arc;

use rusqlite::types::{FromSql, Value, ValueRef};

use crate::store::StoreError;

/// One statement of a script and its bound values.
#[derive(Default)]
pub(super) struct Statement {
    pub(super) sql: String,
    pub(super) params: Vec<Value>,
}

/// A job's SQL: statements ended by `;` (never inside a literal: values are always bound),
/// run in order inside the job's savepoint.
#[derive(Default)]
pub(super) struct Script {
    done: Vec<Statement>,
    current: Statement,
}

impl Script {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// The builder, to append statements (end each with `; `).
    pub(super) fn sql(&mut self) -> &mut Self {
        self
    }

    /// Appends SQL text; a `;` ends the statement.
    pub(super) fn push(&mut self, text: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        let from = self.current.sql.len();
        // Writing to a `String` cannot fail.
        let _ = write!(self.current.sql, "{text}");
        if self.current.sql[from..].contains(';') {
            let pushed = self.current.sql.split_off(from);
            for (i, part) in pushed.split(';').enumerate() {
                if i > 0 {
                    self.end_statement();
                }
                self.current.sql.push_str(part);
            }
        }
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(super) fn push_bind(&mut self, value: impl Bind) -> &mut Self {
        self.current.sql.push('?');
        self.current.params.push(value.value());
        self
    }

    /// A list whose items are separated by `separator`.
    pub(super) fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            script: self,
            separator,
            first: true,
        }
    }

    /// Appends `VALUES (...), (...)`, one tuple per item, its values pushed by `tuple`.
    pub(super) fn push_values<I: IntoIterator>(
        &mut self,
        items: I,
        mut tuple: impl FnMut(Separated<'_>, I::Item),
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            tuple(self.separated(", "), item);
            self.push(")");
        }
        self
    }

    fn end_statement(&mut self) {
        let statement = std::mem::take(&mut self.current);
        if !statement.sql.trim().is_empty() {
            self.done.push(statement);
        }
    }

    /// The statements, in order.
    pub(super) fn finish(mut self) -> Vec<Statement> {
        self.end_statement();
        self.done
    }
}

/// Items of a list, separated (see [`Script::separated`]).
pub(super) struct Separated<'a> {
    script: &'a mut Script,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    /// Appends a placeholder bound to `value`, after the separator unless it is the first.
    pub(super) fn push_bind(&mut self, value: impl Bind) -> &mut Self {
        if !std::mem::take(&mut self.first) {
            self.script.push(self.separator);
        }
        self.script.push_bind(value);
        self
    }
}

/// A value a statement can be bound to.
pub(super) trait Bind {
    fn value(self) -> Value;
}

impl Bind for i64 {
    fn value(self) -> Value {
        Value::Integer(self)
    }
}

impl Bind for String {
    fn value(self) -> Value {
        Value::Text(self)
    }
}

impl Bind for &str {
    fn value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Bind for Vec<u8> {
    fn value(self) -> Value {
        Value::Blob(self)
    }
}

impl<T: Bind> Bind for Option<T> {
    fn value(self) -> Value {
        self.map_or(Value::Null, Bind::value)
    }
}

/// A row a script returned: its statement's column names and the values.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) columns: Arc<[String]>,
    pub(super) values: Vec<Value>,
}

impl Row {
    /// The value of the column `name`.
    pub(super) fn try_get<T: FromSql, N: AsRef<str>>(&self, name: N) -> Result<T, StoreError> {
        let name = name.as_ref();
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| StoreError::Sqlite(format!("no column `{name}` returned")))?;
        T::column_result(ValueRef::from(&self.values[i]))
            .map_err(|e| StoreError::Sqlite(format!("column `{name}`: {e}")))
    }

    /// How many columns it has.
    pub(super) fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_split_at_semicolons_with_their_own_values() {
        let mut script = Script::new();
        script
            .sql()
            .push("UPDATE t SET a = ")
            .push_bind(1)
            .push(" WHERE b IN (");
        let mut list = script.separated(", ");
        list.push_bind("x").push_bind(None::<String>);
        script.push("); INSERT INTO u (c, d) ");
        script.push_values([(2, "y"), (3, "z")], |mut b, (c, d)| {
            b.push_bind(c).push_bind(d);
        });
        script.push("; ");
        let statements = script.finish();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].sql, "UPDATE t SET a = ? WHERE b IN (?, ?)");
        assert_eq!(
            statements[0].params,
            [Value::Integer(1), Value::Text("x".into()), Value::Null]
        );
        assert_eq!(
            statements[1].sql.trim(),
            "INSERT INTO u (c, d) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(statements[1].params.len(), 4);
    }
}
