//! The `signalen` of a scan's phase named the children in the urgent band by their child
//! codes ("Welbevinden 1 tot 2 (…): k07, k12"). The cycle and its events are read by every
//! role that sees the groep, while child codes are for the coach alone; from now on the
//! phase counts the children ("…: 2 kinderen"). This rewrites what was stored before, in
//! the cycles and in their events alike, so the replay of the events still gives the
//! cycle's state. The codes stay where they belong, with the scan's scores.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cycle {
    Table,
    Id,
    WorkflowKey,
    Fields,
}

#[derive(DeriveIden, Clone, Copy)]
enum CycleEvent {
    Table,
    Id,
    CycleId,
    Data,
}

/// The workflow whose scan phase holds `signalen`.
const WORKFLOW: &str = "pedagogische-kwaliteitscyclus";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = db.get_database_backend();
        let cycles = Query::select()
            .columns([Cycle::Id, Cycle::Fields])
            .from(Cycle::Table)
            .and_where(Expr::col(Cycle::WorkflowKey).eq(WORKFLOW))
            .to_owned();
        rewrite(db, backend.build(&cycles), Cycle::Table, Cycle::Id, Cycle::Fields).await?;
        let events = Query::select()
            .columns([CycleEvent::Id, CycleEvent::Data])
            .from(CycleEvent::Table)
            .and_where(
                Expr::col(CycleEvent::CycleId).in_subquery(
                    Query::select()
                        .column(Cycle::Id)
                        .from(Cycle::Table)
                        .and_where(Expr::col(Cycle::WorkflowKey).eq(WORKFLOW))
                        .to_owned(),
                ),
            )
            .to_owned();
        rewrite(db, backend.build(&events), CycleEvent::Table, CycleEvent::Id, CycleEvent::Data).await?;
        Ok(())
    }

    /// The child codes are not kept anywhere they could be brought back from into the
    /// cycles: going down leaves the counts.
    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Rewrites the JSON column `text` of the rows `select` reads wherever it holds `signalen`.
async fn rewrite(
    txn: &impl ConnectionTrait,
    select: Statement,
    table: impl Iden + Copy + 'static,
    id: impl Iden + Copy + 'static,
    text: impl Iden + Copy + 'static,
) -> Result<(), DbErr> {
    for row in txn.query_all_raw(select).await? {
        let key: i64 = row.try_get_by_index(0)?;
        let stored: String = row.try_get_by_index(1)?;
        let Ok(mut json) = serde_json::from_str::<Value>(&stored) else { continue };
        if !count_children(&mut json) {
            continue;
        }
        let update =
            Query::update().table(table).value(text, json.to_string()).and_where(Expr::col(id).eq(key)).to_owned();
        txn.execute(&update).await?;
    }
    Ok(())
}

/// Replaces the child codes of every `signalen` text in `json` by their count; whether
/// anything changed.
fn count_children(json: &mut Value) -> bool {
    match json {
        Value::Object(fields) => {
            let mut changed = false;
            for (key, value) in fields.iter_mut() {
                match value {
                    Value::String(text) if key == "signalen" => {
                        let counted = counted(text);
                        changed |= counted != *text;
                        *text = counted;
                    }
                    other => changed |= count_children(other),
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| count_children(item) | changed),
        _ => false,
    }
}

/// `Welbevinden 1 tot 2 (…): k07, k12` becomes `Welbevinden 1 tot 2 (…): 2 kinderen`, line
/// by line; a line about the whole groep stays as it is.
fn counted(signalen: &str) -> String {
    signalen
        .lines()
        .map(|line| match line.rsplit_once("): ") {
            Some((_, "de groep")) | None => line.to_owned(),
            Some((_, who)) if who.ends_with(" kind") || who.ends_with(" kinderen") => line.to_owned(),
            Some((head, codes)) => match codes.split(',').filter(|c| !c.trim().is_empty()).count() {
                1 => format!("{head}): 1 kind"),
                n => format!("{head}): {n} kinderen"),
            },
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn codes_become_counts_and_the_rest_stays() {
        let mut fields = json!({ "1": { "scan": {
            "welbevinden": 3.2,
            "signalen": "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): k07, k12\nBetrokkenheid 1 tot 2 (hier moet men ter hulp snellen): k12",
        } } });
        assert!(count_children(&mut fields));
        assert_eq!(
            fields,
            json!({ "1": { "scan": {
                "welbevinden": 3.2,
                "signalen": "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): 2 kinderen\nBetrokkenheid 1 tot 2 (hier moet men ter hulp snellen): 1 kind",
            } } })
        );
        assert!(!count_children(&mut fields), "counted twice");
        let mut event = json!({ "FieldsUpdated": { "values": { "signalen": "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): de groep" } } });
        assert!(!count_children(&mut event));
        let mut empty = json!({ "values": { "signalen": "" } });
        assert!(!count_children(&mut empty));
    }
}
