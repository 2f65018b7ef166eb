//! Evidence and progress: succescriteria marked met with evidence, manual signal
//! overrides, welbevinden/betrokkenheid scans, the coaching log of the wet IKK, the number
//! of VE-indicated children per houder, and flexible pedagogisch medewerkers.
//!
//! Marks and overrides are append-only: the latest row counts, earlier rows are the
//! history a board can audit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CriteriumMark {
    Table,
    Id,
    SuccescriteriumId,
    Met,
    CycleId,
    MeasurementId,
    Note,
    Actor,
    At,
}

#[derive(DeriveIden)]
enum SignalOverride {
    Table,
    Id,
    KoersplanId,
    AmbitieId,
    DoelId,
    Signal,
    Reason,
    Actor,
    At,
}

#[derive(DeriveIden)]
enum Scan {
    Table,
    Id,
    GroepId,
    Year,
    Quarter,
    ScannedOn,
    Technique,
    CycleId,
    Iteration,
    Note,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScanScore {
    Table,
    Id,
    ScanId,
    ChildCode,
    Welbevinden,
    Betrokkenheid,
}

#[derive(DeriveIden)]
enum CoachingEntry {
    Table,
    Id,
    BestuurId,
    CoachId,
    Date,
    Hours,
    Kind,
    LocatieId,
    Note,
    Actor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CoachingCoachee {
    Table,
    CoachingEntryId,
    ProfessionalId,
}

#[derive(DeriveIden)]
enum VeIndication {
    Table,
    BestuurId,
    Year,
    Children,
}

#[derive(DeriveIden)]
enum Professional {
    Table,
    Id,
    Flexible,
}

#[derive(DeriveIden)]
enum Succescriterium {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Cycle {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Measurement {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Koersplan {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Ambitie {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Doel {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groep {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Bestuur {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Locatie {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(on_delete).to_owned()
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

use ForeignKeyAction::{Cascade, Restrict, SetNull};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CriteriumMark::Table)
                .col(big_pk_auto(CriteriumMark::Id))
                .col(big_integer(CriteriumMark::SuccescriteriumId))
                .col(boolean(CriteriumMark::Met))
                .col(big_integer_null(CriteriumMark::CycleId))
                .col(big_integer_null(CriteriumMark::MeasurementId))
                .col(text_null(CriteriumMark::Note))
                .col(string(CriteriumMark::Actor))
                .col(timestamp_with_time_zone(CriteriumMark::At))
                .foreign_key(&mut fk(
                    (CriteriumMark::Table, CriteriumMark::SuccescriteriumId),
                    (Succescriterium::Table, Succescriterium::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    (CriteriumMark::Table, CriteriumMark::CycleId),
                    (Cycle::Table, Cycle::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (CriteriumMark::Table, CriteriumMark::MeasurementId),
                    (Measurement::Table, Measurement::Id),
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_criterium_mark_criterium",
            CriteriumMark::Table,
            vec![CriteriumMark::SuccescriteriumId.into_iden(), CriteriumMark::At.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(SignalOverride::Table)
                .col(big_pk_auto(SignalOverride::Id))
                .col(big_integer(SignalOverride::KoersplanId))
                .col(big_integer_null(SignalOverride::AmbitieId))
                .col(big_integer_null(SignalOverride::DoelId))
                // NULL lifts an earlier override: the computed signal counts again.
                .col(string_null(SignalOverride::Signal))
                .col(text(SignalOverride::Reason))
                .col(string(SignalOverride::Actor))
                .col(timestamp_with_time_zone(SignalOverride::At))
                .foreign_key(&mut fk(
                    (SignalOverride::Table, SignalOverride::KoersplanId),
                    (Koersplan::Table, Koersplan::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    (SignalOverride::Table, SignalOverride::AmbitieId),
                    (Ambitie::Table, Ambitie::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk((SignalOverride::Table, SignalOverride::DoelId), (Doel::Table, Doel::Id), Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_signal_override_koersplan",
            SignalOverride::Table,
            vec![SignalOverride::KoersplanId.into_iden(), SignalOverride::At.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Scan::Table)
                .col(big_pk_auto(Scan::Id))
                .col(big_integer(Scan::GroepId))
                .col(integer(Scan::Year))
                .col(integer(Scan::Quarter))
                .col(date(Scan::ScannedOn))
                .col(string(Scan::Technique))
                .col(big_integer_null(Scan::CycleId))
                .col(integer_null(Scan::Iteration))
                .col(text_null(Scan::Note))
                .col(string(Scan::Actor))
                .col(timestamp_with_time_zone(Scan::CreatedAt))
                .check(Expr::col(Scan::Quarter).between(1, 4))
                .foreign_key(&mut fk((Scan::Table, Scan::GroepId), (Groep::Table, Groep::Id), Cascade))
                .foreign_key(&mut fk((Scan::Table, Scan::CycleId), (Cycle::Table, Cycle::Id), SetNull))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_scan_quarter",
            Scan::Table,
            vec![Scan::GroepId.into_iden(), Scan::Year.into_iden(), Scan::Quarter.into_iden()],
            true,
        ))
        .await?;
        m.create_index(index("idx_scan_cycle", Scan::Table, vec![Scan::CycleId.into_iden()], false)).await?;

        m.create_table(
            Table::create()
                .table(ScanScore::Table)
                .col(big_pk_auto(ScanScore::Id))
                .col(big_integer(ScanScore::ScanId))
                // NULL for the one score of the group scanning technique.
                .col(string_null(ScanScore::ChildCode))
                .col(double(ScanScore::Welbevinden))
                .col(double(ScanScore::Betrokkenheid))
                .check(Expr::col(ScanScore::Welbevinden).between(1.0, 5.0))
                .check(Expr::col(ScanScore::Betrokkenheid).between(1.0, 5.0))
                .foreign_key(&mut fk((ScanScore::Table, ScanScore::ScanId), (Scan::Table, Scan::Id), Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_scan_score_child",
            ScanScore::Table,
            vec![ScanScore::ScanId.into_iden(), ScanScore::ChildCode.into_iden()],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(CoachingEntry::Table)
                .col(big_pk_auto(CoachingEntry::Id))
                // The houder whose norm the hours count toward.
                .col(big_integer(CoachingEntry::BestuurId))
                .col(big_integer(CoachingEntry::CoachId))
                .col(date(CoachingEntry::Date))
                .col(double(CoachingEntry::Hours))
                .col(string(CoachingEntry::Kind))
                .col(big_integer_null(CoachingEntry::LocatieId))
                .col(text_null(CoachingEntry::Note))
                .col(string(CoachingEntry::Actor))
                .col(timestamp_with_time_zone(CoachingEntry::CreatedAt))
                .check(Expr::col(CoachingEntry::Hours).gt(0.0).and(Expr::col(CoachingEntry::Hours).lte(24.0)))
                .foreign_key(&mut fk(
                    (CoachingEntry::Table, CoachingEntry::BestuurId),
                    (Bestuur::Table, Bestuur::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (CoachingEntry::Table, CoachingEntry::CoachId),
                    (Professional::Table, Professional::Id),
                    Restrict,
                ))
                .foreign_key(&mut fk(
                    (CoachingEntry::Table, CoachingEntry::LocatieId),
                    (Locatie::Table, Locatie::Id),
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_coaching_entry_houder", vec![CoachingEntry::BestuurId.into_iden(), CoachingEntry::Date.into_iden()]),
            ("idx_coaching_entry_coach", vec![CoachingEntry::CoachId.into_iden(), CoachingEntry::Date.into_iden()]),
            ("idx_coaching_entry_locatie", vec![CoachingEntry::LocatieId.into_iden()]),
        ] {
            m.create_index(index(name, CoachingEntry::Table, cols, false)).await?;
        }

        m.create_table(
            Table::create()
                .table(CoachingCoachee::Table)
                .col(big_integer(CoachingCoachee::CoachingEntryId))
                .col(big_integer(CoachingCoachee::ProfessionalId))
                .primary_key(Index::create().col(CoachingCoachee::CoachingEntryId).col(CoachingCoachee::ProfessionalId))
                .foreign_key(&mut fk(
                    (CoachingCoachee::Table, CoachingCoachee::CoachingEntryId),
                    (CoachingEntry::Table, CoachingEntry::Id),
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    (CoachingCoachee::Table, CoachingCoachee::ProfessionalId),
                    (Professional::Table, Professional::Id),
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_coaching_coachee_professional",
            CoachingCoachee::Table,
            vec![CoachingCoachee::ProfessionalId.into_iden()],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(VeIndication::Table)
                .col(big_integer(VeIndication::BestuurId))
                .col(integer(VeIndication::Year))
                .col(integer(VeIndication::Children))
                .primary_key(Index::create().col(VeIndication::BestuurId).col(VeIndication::Year))
                .check(Expr::col(VeIndication::Children).gte(0))
                .foreign_key(&mut fk(
                    (VeIndication::Table, VeIndication::BestuurId),
                    (Bestuur::Table, Bestuur::Id),
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Professional::Table)
                .add_column(boolean(Professional::Flexible).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Professional::Table).drop_column(Professional::Flexible).to_owned()).await?;
        for table in [
            VeIndication::Table.into_iden(),
            CoachingCoachee::Table.into_iden(),
            CoachingEntry::Table.into_iden(),
            ScanScore::Table.into_iden(),
            Scan::Table.into_iden(),
            SignalOverride::Table.into_iden(),
            CriteriumMark::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
