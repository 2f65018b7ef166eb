//! One trail of every change: who (the actor, and the name given to it), when, through
//! which front, what entity, before and after. A row's version is the number of its
//! recorded changes; the unique (entity, entity_id, version) makes two writers that read
//! the same version collide instead of one losing the other's change.
//!
//! Beside it, what editing needs of the rows kept: the meerjarenplanning's items get a note
//! and the statuses the schools use (gepland, gestart, afgerond, vervallen), and a coaching
//! entry can be withdrawn with a reason, staying in the log without counting.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Change {
    Table,
    Id,
    Entity,
    EntityId,
    Version,
    Action,
    At,
    Actor,
    ActorName,
    Front,
    KindcentrumId,
    BestuurId,
    Before,
    After,
    Reason,
}

#[derive(DeriveIden)]
enum PlanningItem {
    Table,
    Status,
    Note,
}

#[derive(DeriveIden)]
enum CoachingEntry {
    Table,
    WithdrawnAt,
    WithdrawnReason,
}

/// The statuses renamed: (before, after).
const STATUSES: [(&str, &str); 2] = [("bezig", "gestart"), ("gereed", "afgerond")];

fn index(name: &str, cols: [Change; 3], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(Change::Table);
    for col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

async fn rename_statuses(m: &SchemaManager<'_>, forward: bool) -> Result<(), DbErr> {
    for (before, after) in STATUSES {
        let (from, to) = if forward { (before, after) } else { (after, before) };
        let stmt = Query::update()
            .table(PlanningItem::Table)
            .value(PlanningItem::Status, to)
            .and_where(Expr::col(PlanningItem::Status).eq(from))
            .to_owned();
        m.exec_stmt(stmt).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Change::Table)
                .col(big_pk_auto(Change::Id))
                .col(string(Change::Entity))
                .col(big_integer(Change::EntityId))
                .col(integer(Change::Version))
                .col(string(Change::Action))
                .col(timestamp_with_time_zone(Change::At))
                .col(string(Change::Actor))
                .col(string(Change::ActorName))
                .col(string(Change::Front))
                .col(big_integer_null(Change::KindcentrumId))
                .col(big_integer_null(Change::BestuurId))
                .col(json_null(Change::Before))
                .col(json_null(Change::After))
                .col(text_null(Change::Reason))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_change_entity", [Change::Entity, Change::EntityId, Change::Version], true)).await?;
        m.create_index(index("idx_change_kindcentrum", [Change::KindcentrumId, Change::At, Change::Id], false)).await?;
        m.create_index(index("idx_change_bestuur", [Change::BestuurId, Change::At, Change::Id], false)).await?;
        m.alter_table(
            Table::alter()
                .table(PlanningItem::Table)
                .add_column(ColumnDef::new(PlanningItem::Note).text().null())
                .to_owned(),
        )
        .await?;
        rename_statuses(m, true).await?;
        m.alter_table(
            Table::alter()
                .table(CoachingEntry::Table)
                .add_column(ColumnDef::new(CoachingEntry::WithdrawnAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CoachingEntry::Table)
                .add_column(ColumnDef::new(CoachingEntry::WithdrawnReason).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [CoachingEntry::WithdrawnReason, CoachingEntry::WithdrawnAt] {
            m.alter_table(Table::alter().table(CoachingEntry::Table).drop_column(column).to_owned()).await?;
        }
        rename_statuses(m, false).await?;
        m.alter_table(Table::alter().table(PlanningItem::Table).drop_column(PlanningItem::Note).to_owned()).await?;
        m.drop_table(Table::drop().table(Change::Table).to_owned()).await
    }
}
