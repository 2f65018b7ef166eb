//! Workflow definitions (versioned by content hash), cycles with their append-only event
//! log, the doelen a cycle serves, and the pitches of the Evaluatie & Planningsdagen.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowVersion {
    Table,
    Id,
    Key,
    Version,
    Hash,
    Definition,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cycle {
    Table,
    Id,
    WorkflowVersionId,
    WorkflowKey,
    Title,
    TeamId,
    ProfessionalId,
    GroepId,
    KindcentrumId,
    OccurrenceId,
    Status,
    Phase,
    Iteration,
    Outcome,
    Fields,
    DueDates,
    CurrentDue,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CycleDoel {
    Table,
    CycleId,
    DoelId,
}

#[derive(DeriveIden)]
enum CycleEvent {
    Table,
    Id,
    CycleId,
    Sequence,
    Kind,
    Actor,
    At,
    FromPhase,
    ToPhase,
    Iteration,
    Data,
}

#[derive(DeriveIden)]
enum Pitch {
    Table,
    Id,
    CycleId,
    ProfessionalId,
    Date,
    Did,
    Yielded,
}

#[derive(DeriveIden)]
enum Team {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Professional {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Doel {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(action).to_owned()
}

fn idx(name: &str, table: impl IntoIden, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WorkflowVersion::Table)
                .col(big_pk_auto(WorkflowVersion::Id))
                .col(string(WorkflowVersion::Key))
                .col(integer(WorkflowVersion::Version))
                .col(string(WorkflowVersion::Hash))
                .col(text(WorkflowVersion::Definition))
                .col(timestamp_with_time_zone(WorkflowVersion::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_workflow_version_hash",
            WorkflowVersion::Table,
            vec![WorkflowVersion::Key.into_iden(), WorkflowVersion::Hash.into_iden()],
            true,
        ))
        .await?;
        m.create_index(idx(
            "idx_workflow_version_number",
            WorkflowVersion::Table,
            vec![WorkflowVersion::Key.into_iden(), WorkflowVersion::Version.into_iden()],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Cycle::Table)
                .col(big_pk_auto(Cycle::Id))
                .col(big_integer(Cycle::WorkflowVersionId))
                .col(string(Cycle::WorkflowKey))
                .col(string(Cycle::Title))
                .col(big_integer_null(Cycle::TeamId))
                .col(big_integer_null(Cycle::ProfessionalId))
                .col(big_integer_null(Cycle::GroepId))
                .col(big_integer_null(Cycle::KindcentrumId))
                .col(string(Cycle::Status))
                .col(string(Cycle::Phase))
                .col(integer(Cycle::Iteration))
                .col(string_null(Cycle::Outcome))
                .col(text(Cycle::Fields))
                .col(text(Cycle::DueDates))
                .col(date_null(Cycle::CurrentDue))
                .col(big_integer(Cycle::Version))
                .col(timestamp_with_time_zone(Cycle::CreatedAt))
                .col(timestamp_with_time_zone(Cycle::UpdatedAt))
                // The occurrence of a schedule that opened the cycle (table `occurrence`).
                .col(big_integer_null(Cycle::OccurrenceId))
                // A cycle belongs to exactly one owner: a team, a professional, a groep (its
                // pedagogische kwaliteitscyclus) or a kindcentrum as a whole.
                .check(Expr::cust(
                    "(CASE WHEN team_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN professional_id IS NULL THEN 0 ELSE 1 END) \
                     + (CASE WHEN groep_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN kindcentrum_id IS NULL THEN 0 ELSE 1 END) = 1",
                ))
                .foreign_key(&mut fk(
                    (Cycle::Table, Cycle::WorkflowVersionId),
                    (WorkflowVersion::Table, WorkflowVersion::Id),
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    (Cycle::Table, Cycle::TeamId),
                    (Team::Table, Team::Id),
                    ForeignKeyAction::Restrict,
                ))
                .foreign_key(&mut fk(
                    (Cycle::Table, Cycle::ProfessionalId),
                    (Professional::Table, Professional::Id),
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_cycle_workflow", Cycle::WorkflowKey),
            ("idx_cycle_team", Cycle::TeamId),
            ("idx_cycle_professional", Cycle::ProfessionalId),
            ("idx_cycle_groep", Cycle::GroepId),
            ("idx_cycle_kindcentrum", Cycle::KindcentrumId),
            ("idx_cycle_occurrence", Cycle::OccurrenceId),
            ("idx_cycle_phase", Cycle::Phase),
        ] {
            m.create_index(idx(name, Cycle::Table, vec![col.into_iden()], false)).await?;
        }
        m.create_index(idx(
            "idx_cycle_due",
            Cycle::Table,
            vec![Cycle::Status.into_iden(), Cycle::CurrentDue.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CycleDoel::Table)
                .col(big_integer(CycleDoel::CycleId))
                .col(big_integer(CycleDoel::DoelId))
                .primary_key(Index::create().col(CycleDoel::CycleId).col(CycleDoel::DoelId))
                .foreign_key(&mut fk(
                    (CycleDoel::Table, CycleDoel::CycleId),
                    (Cycle::Table, Cycle::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    (CycleDoel::Table, CycleDoel::DoelId),
                    (Doel::Table, Doel::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx("idx_cycle_doel_doel", CycleDoel::Table, vec![CycleDoel::DoelId.into_iden()], false))
            .await?;

        m.create_table(
            Table::create()
                .table(CycleEvent::Table)
                .col(big_pk_auto(CycleEvent::Id))
                .col(big_integer(CycleEvent::CycleId))
                .col(big_integer(CycleEvent::Sequence))
                .col(string(CycleEvent::Kind))
                .col(string(CycleEvent::Actor))
                .col(timestamp_with_time_zone(CycleEvent::At))
                .col(string_null(CycleEvent::FromPhase))
                .col(string_null(CycleEvent::ToPhase))
                .col(integer(CycleEvent::Iteration))
                .col(text(CycleEvent::Data))
                .foreign_key(&mut fk(
                    (CycleEvent::Table, CycleEvent::CycleId),
                    (Cycle::Table, Cycle::Id),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_cycle_event_sequence",
            CycleEvent::Table,
            vec![CycleEvent::CycleId.into_iden(), CycleEvent::Sequence.into_iden()],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Pitch::Table)
                .col(big_pk_auto(Pitch::Id))
                .col(big_integer(Pitch::CycleId))
                .col(big_integer(Pitch::ProfessionalId))
                .col(date(Pitch::Date))
                .col(text(Pitch::Did))
                .col(text(Pitch::Yielded))
                .foreign_key(&mut fk(
                    (Pitch::Table, Pitch::CycleId),
                    (Cycle::Table, Cycle::Id),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    (Pitch::Table, Pitch::ProfessionalId),
                    (Professional::Table, Professional::Id),
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(idx(
            "idx_pitch_once",
            Pitch::Table,
            vec![Pitch::CycleId.into_iden(), Pitch::ProfessionalId.into_iden(), Pitch::Date.into_iden()],
            true,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Pitch::Table.into_iden(),
            CycleEvent::Table.into_iden(),
            CycleDoel::Table.into_iden(),
            Cycle::Table.into_iden(),
            WorkflowVersion::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
