//! The quality calendar: schedules, their stored occurrences, reminders, school holidays,
//! and the vacation region of a locatie.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Schedule {
    Table,
    Id,
    Key,
    Name,
    Template,
    ScopeKind,
    ScopeId,
    Rule,
    Action,
    Policy,
    Paused,
    MaterializedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Occurrence {
    Table,
    Id,
    ScheduleId,
    DueAt,
    LocalAt,
    Status,
    FiredAt,
    Result,
    Note,
}

#[derive(DeriveIden)]
enum Reminder {
    Table,
    Id,
    OccurrenceId,
    Title,
    DueDate,
    TeamId,
    ProfessionalId,
    GroepId,
    KindcentrumId,
    DoneAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SchoolHoliday {
    Table,
    Id,
    Region,
    SchoolYear,
    Name,
    StartDate,
    EndDate,
}

#[derive(DeriveIden)]
enum Locatie {
    Table,
    VacationRegion,
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
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
                .table(Schedule::Table)
                .col(big_pk_auto(Schedule::Id))
                .col(string(Schedule::Key))
                .col(string(Schedule::Name))
                .col(string_null(Schedule::Template))
                .col(string(Schedule::ScopeKind))
                .col(big_integer(Schedule::ScopeId))
                .col(text(Schedule::Rule))
                .col(text(Schedule::Action))
                .col(text(Schedule::Policy))
                .col(boolean(Schedule::Paused))
                // Wall-clock time in Europe/Amsterdam up to which occurrences are stored.
                .col(date_time(Schedule::MaterializedUntil))
                .col(timestamp_with_time_zone(Schedule::CreatedAt))
                .col(timestamp_with_time_zone(Schedule::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_schedule_key",
            Schedule::Table,
            vec![Schedule::ScopeKind.into_iden(), Schedule::ScopeId.into_iden(), Schedule::Key.into_iden()],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Occurrence::Table)
                .col(big_pk_auto(Occurrence::Id))
                .col(big_integer(Occurrence::ScheduleId))
                .col(timestamp_with_time_zone(Occurrence::DueAt))
                .col(date_time(Occurrence::LocalAt))
                .col(string(Occurrence::Status))
                .col(timestamp_with_time_zone_null(Occurrence::FiredAt))
                .col(text_null(Occurrence::Result))
                .col(text_null(Occurrence::Note))
                .foreign_key(
                    ForeignKey::create()
                        .from(Occurrence::Table, Occurrence::ScheduleId)
                        .to(Schedule::Table, Schedule::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_occurrence_once",
            Occurrence::Table,
            vec![Occurrence::ScheduleId.into_iden(), Occurrence::DueAt.into_iden()],
            true,
        ))
        .await?;
        m.create_index(index(
            "idx_occurrence_due",
            Occurrence::Table,
            vec![Occurrence::Status.into_iden(), Occurrence::DueAt.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Reminder::Table)
                .col(big_pk_auto(Reminder::Id))
                .col(big_integer_null(Reminder::OccurrenceId))
                .col(string(Reminder::Title))
                .col(date(Reminder::DueDate))
                .col(big_integer_null(Reminder::TeamId))
                .col(big_integer_null(Reminder::ProfessionalId))
                .col(big_integer_null(Reminder::GroepId))
                .col(big_integer_null(Reminder::KindcentrumId))
                .col(timestamp_with_time_zone_null(Reminder::DoneAt))
                .col(timestamp_with_time_zone(Reminder::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Reminder::Table, Reminder::OccurrenceId)
                        .to(Occurrence::Table, Occurrence::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_reminder_due", Reminder::DueDate),
            ("idx_reminder_occurrence", Reminder::OccurrenceId),
            ("idx_reminder_team", Reminder::TeamId),
            ("idx_reminder_professional", Reminder::ProfessionalId),
            ("idx_reminder_kindcentrum", Reminder::KindcentrumId),
        ] {
            m.create_index(index(name, Reminder::Table, vec![col.into_iden()], false)).await?;
        }

        m.create_table(
            Table::create()
                .table(SchoolHoliday::Table)
                .col(big_pk_auto(SchoolHoliday::Id))
                .col(string(SchoolHoliday::Region))
                .col(integer(SchoolHoliday::SchoolYear))
                .col(string(SchoolHoliday::Name))
                .col(date(SchoolHoliday::StartDate))
                .col(date(SchoolHoliday::EndDate))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_school_holiday_once",
            SchoolHoliday::Table,
            vec![
                SchoolHoliday::Region.into_iden(),
                SchoolHoliday::SchoolYear.into_iden(),
                SchoolHoliday::Name.into_iden(),
            ],
            true,
        ))
        .await?;

        m.alter_table(Table::alter().table(Locatie::Table).add_column(string_null(Locatie::VacationRegion)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Locatie::Table).drop_column(Locatie::VacationRegion).to_owned()).await?;
        for table in [
            SchoolHoliday::Table.into_iden(),
            Reminder::Table.into_iden(),
            Occurrence::Table.into_iden(),
            Schedule::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
