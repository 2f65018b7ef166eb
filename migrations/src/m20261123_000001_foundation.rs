//! Organisation (besturen, kindcentra, onderdelen, locaties, groepen, professionals, teams),
//! koersplannen with their ambities, doelen, succescriteria and meerjarenplanning, and
//! indicators with their measurements.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bestuur {
    Table,
    Id,
    Key,
    Name,
    Kind,
}

#[derive(DeriveIden)]
enum Kindcentrum {
    Table,
    Id,
    Key,
    Name,
    Plaats,
}

#[derive(DeriveIden)]
enum KindcentrumBestuur {
    Table,
    KindcentrumId,
    BestuurId,
}

#[derive(DeriveIden)]
enum Onderdeel {
    Table,
    Id,
    KindcentrumId,
    Key,
    Name,
    Kind,
    BestuurId,
}

#[derive(DeriveIden)]
enum Locatie {
    Table,
    Id,
    KindcentrumId,
    Key,
    Name,
    Address,
}

#[derive(DeriveIden)]
enum LrkRegistration {
    Table,
    Id,
    LocatieId,
    Number,
    OnderdeelId,
}

#[derive(DeriveIden)]
enum Groep {
    Table,
    Id,
    LocatieId,
    OnderdeelId,
    Key,
    Name,
    MaxChildren,
    AgeFrom,
    AgeUntil,
}

#[derive(DeriveIden)]
enum Professional {
    Table,
    Id,
    Key,
    Name,
    EmployerBestuurId,
}

#[derive(DeriveIden)]
enum ProfessionalRole {
    Table,
    ProfessionalId,
    Role,
}

#[derive(DeriveIden)]
enum ProfessionalFte {
    Table,
    ProfessionalId,
    ValidFrom,
    Fte,
}

#[derive(DeriveIden)]
enum ProfessionalKindcentrum {
    Table,
    ProfessionalId,
    KindcentrumId,
}

#[derive(DeriveIden)]
enum Team {
    Table,
    Id,
    KindcentrumId,
    Key,
    Name,
    Kind,
}

#[derive(DeriveIden)]
enum TeamMember {
    Table,
    TeamId,
    ProfessionalId,
}

#[derive(DeriveIden)]
enum Koersplan {
    Table,
    Id,
    Key,
    KindcentrumId,
    Title,
    FirstSchoolYear,
    LastSchoolYear,
    Visie,
    Pijlers,
}

#[derive(DeriveIden)]
enum Ambitie {
    Table,
    Id,
    KoersplanId,
    Key,
    Position,
    Title,
    Description,
}

#[derive(DeriveIden)]
enum Doel {
    Table,
    Id,
    AmbitieId,
    Key,
    Position,
    Title,
    Description,
}

#[derive(DeriveIden)]
enum Succescriterium {
    Table,
    Id,
    DoelId,
    Key,
    Position,
    Description,
    IndicatorId,
}

#[derive(DeriveIden)]
enum PlanningItem {
    Table,
    Id,
    DoelId,
    Key,
    Position,
    SchoolYear,
    Text,
    Status,
}

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Id,
    Key,
    Name,
    Unit,
    Direction,
    Target,
    Baseline,
    BestuurId,
    KindcentrumId,
    LocatieId,
    GroepId,
}

#[derive(DeriveIden)]
enum DoelIndicator {
    Table,
    DoelId,
    IndicatorId,
}

#[derive(DeriveIden)]
enum Measurement {
    Table,
    Id,
    IndicatorId,
    PeriodStart,
    PeriodEnd,
    Value,
    Source,
    Note,
}

/// A foreign key that removes the child rows with their parent.
fn cascade(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

/// A foreign key that refuses to remove a parent that is still referred to.
fn restrict(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&dyn Fn() -> DynIden], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col());
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

macro_rules! cols {
    ($($c:expr),+) => { &[$(&|| $c.into_iden()),+] };
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Bestuur::Table)
                .col(big_pk_auto(Bestuur::Id))
                .col(string_uniq(Bestuur::Key))
                .col(string(Bestuur::Name))
                .col(string(Bestuur::Kind))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Kindcentrum::Table)
                .col(big_pk_auto(Kindcentrum::Id))
                .col(string_uniq(Kindcentrum::Key))
                .col(string(Kindcentrum::Name))
                .col(string_null(Kindcentrum::Plaats))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KindcentrumBestuur::Table)
                .col(big_integer(KindcentrumBestuur::KindcentrumId))
                .col(big_integer(KindcentrumBestuur::BestuurId))
                .primary_key(Index::create().col(KindcentrumBestuur::KindcentrumId).col(KindcentrumBestuur::BestuurId))
                .foreign_key(&mut cascade(
                    (KindcentrumBestuur::Table, KindcentrumBestuur::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .foreign_key(&mut restrict(
                    (KindcentrumBestuur::Table, KindcentrumBestuur::BestuurId),
                    (Bestuur::Table, Bestuur::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_kindcentrum_bestuur_bestuur",
            KindcentrumBestuur::Table,
            cols!(KindcentrumBestuur::BestuurId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Onderdeel::Table)
                .col(big_pk_auto(Onderdeel::Id))
                .col(big_integer(Onderdeel::KindcentrumId))
                .col(string(Onderdeel::Key))
                .col(string(Onderdeel::Name))
                .col(string(Onderdeel::Kind))
                .col(big_integer(Onderdeel::BestuurId))
                .foreign_key(&mut cascade(
                    (Onderdeel::Table, Onderdeel::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .foreign_key(&mut restrict((Onderdeel::Table, Onderdeel::BestuurId), (Bestuur::Table, Bestuur::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_onderdeel_key",
            Onderdeel::Table,
            cols!(Onderdeel::KindcentrumId, Onderdeel::Key),
            true,
        ))
        .await?;
        m.create_index(index("idx_onderdeel_bestuur", Onderdeel::Table, cols!(Onderdeel::BestuurId), false)).await?;

        m.create_table(
            Table::create()
                .table(Locatie::Table)
                .col(big_pk_auto(Locatie::Id))
                .col(big_integer(Locatie::KindcentrumId))
                .col(string(Locatie::Key))
                .col(string(Locatie::Name))
                .col(string_null(Locatie::Address))
                .foreign_key(&mut cascade(
                    (Locatie::Table, Locatie::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_locatie_key", Locatie::Table, cols!(Locatie::KindcentrumId, Locatie::Key), true))
            .await?;

        m.create_table(
            Table::create()
                .table(LrkRegistration::Table)
                .col(big_pk_auto(LrkRegistration::Id))
                .col(big_integer(LrkRegistration::LocatieId))
                .col(string_uniq(LrkRegistration::Number))
                .col(big_integer(LrkRegistration::OnderdeelId))
                .foreign_key(&mut cascade(
                    (LrkRegistration::Table, LrkRegistration::LocatieId),
                    (Locatie::Table, Locatie::Id),
                ))
                .foreign_key(&mut cascade(
                    (LrkRegistration::Table, LrkRegistration::OnderdeelId),
                    (Onderdeel::Table, Onderdeel::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_lrk_registration_locatie",
            LrkRegistration::Table,
            cols!(LrkRegistration::LocatieId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Groep::Table)
                .col(big_pk_auto(Groep::Id))
                .col(big_integer(Groep::LocatieId))
                .col(big_integer(Groep::OnderdeelId))
                .col(string(Groep::Key))
                .col(string(Groep::Name))
                .col(integer_null(Groep::MaxChildren))
                .col(integer_null(Groep::AgeFrom))
                .col(integer_null(Groep::AgeUntil))
                .foreign_key(&mut cascade((Groep::Table, Groep::LocatieId), (Locatie::Table, Locatie::Id)))
                .foreign_key(&mut restrict((Groep::Table, Groep::OnderdeelId), (Onderdeel::Table, Onderdeel::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_groep_key", Groep::Table, cols!(Groep::LocatieId, Groep::Key), true)).await?;
        m.create_index(index("idx_groep_onderdeel", Groep::Table, cols!(Groep::OnderdeelId), false)).await?;

        m.create_table(
            Table::create()
                .table(Professional::Table)
                .col(big_pk_auto(Professional::Id))
                .col(string_uniq(Professional::Key))
                .col(string(Professional::Name))
                .col(big_integer(Professional::EmployerBestuurId))
                .foreign_key(&mut restrict(
                    (Professional::Table, Professional::EmployerBestuurId),
                    (Bestuur::Table, Bestuur::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_professional_employer",
            Professional::Table,
            cols!(Professional::EmployerBestuurId),
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(ProfessionalRole::Table)
                .col(big_integer(ProfessionalRole::ProfessionalId))
                .col(string(ProfessionalRole::Role))
                .primary_key(Index::create().col(ProfessionalRole::ProfessionalId).col(ProfessionalRole::Role))
                .foreign_key(&mut cascade(
                    (ProfessionalRole::Table, ProfessionalRole::ProfessionalId),
                    (Professional::Table, Professional::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_professional_role_role",
            ProfessionalRole::Table,
            cols!(ProfessionalRole::Role),
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(ProfessionalFte::Table)
                .col(big_integer(ProfessionalFte::ProfessionalId))
                .col(date(ProfessionalFte::ValidFrom))
                .col(double(ProfessionalFte::Fte))
                .primary_key(Index::create().col(ProfessionalFte::ProfessionalId).col(ProfessionalFte::ValidFrom))
                .foreign_key(&mut cascade(
                    (ProfessionalFte::Table, ProfessionalFte::ProfessionalId),
                    (Professional::Table, Professional::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProfessionalKindcentrum::Table)
                .col(big_integer(ProfessionalKindcentrum::ProfessionalId))
                .col(big_integer(ProfessionalKindcentrum::KindcentrumId))
                .primary_key(
                    Index::create()
                        .col(ProfessionalKindcentrum::ProfessionalId)
                        .col(ProfessionalKindcentrum::KindcentrumId),
                )
                .foreign_key(&mut cascade(
                    (ProfessionalKindcentrum::Table, ProfessionalKindcentrum::ProfessionalId),
                    (Professional::Table, Professional::Id),
                ))
                .foreign_key(&mut cascade(
                    (ProfessionalKindcentrum::Table, ProfessionalKindcentrum::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_professional_kindcentrum_kc",
            ProfessionalKindcentrum::Table,
            cols!(ProfessionalKindcentrum::KindcentrumId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Team::Table)
                .col(big_pk_auto(Team::Id))
                .col(big_integer(Team::KindcentrumId))
                .col(string(Team::Key))
                .col(string(Team::Name))
                .col(string(Team::Kind))
                .foreign_key(&mut cascade((Team::Table, Team::KindcentrumId), (Kindcentrum::Table, Kindcentrum::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_team_key", Team::Table, cols!(Team::KindcentrumId, Team::Key), true)).await?;
        m.create_table(
            Table::create()
                .table(TeamMember::Table)
                .col(big_integer(TeamMember::TeamId))
                .col(big_integer(TeamMember::ProfessionalId))
                .primary_key(Index::create().col(TeamMember::TeamId).col(TeamMember::ProfessionalId))
                .foreign_key(&mut cascade((TeamMember::Table, TeamMember::TeamId), (Team::Table, Team::Id)))
                .foreign_key(&mut cascade(
                    (TeamMember::Table, TeamMember::ProfessionalId),
                    (Professional::Table, Professional::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_team_member_professional",
            TeamMember::Table,
            cols!(TeamMember::ProfessionalId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Koersplan::Table)
                .col(big_pk_auto(Koersplan::Id))
                .col(string_uniq(Koersplan::Key))
                .col(big_integer(Koersplan::KindcentrumId))
                .col(string(Koersplan::Title))
                .col(integer(Koersplan::FirstSchoolYear))
                .col(integer(Koersplan::LastSchoolYear))
                .col(text(Koersplan::Visie))
                .col(json(Koersplan::Pijlers))
                .check(Expr::col(Koersplan::FirstSchoolYear).lte(Expr::col(Koersplan::LastSchoolYear)))
                .foreign_key(&mut cascade(
                    (Koersplan::Table, Koersplan::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_koersplan_kindcentrum", Koersplan::Table, cols!(Koersplan::KindcentrumId), false))
            .await?;

        m.create_table(
            Table::create()
                .table(Ambitie::Table)
                .col(big_pk_auto(Ambitie::Id))
                .col(big_integer(Ambitie::KoersplanId))
                .col(string(Ambitie::Key))
                .col(integer(Ambitie::Position))
                .col(string(Ambitie::Title))
                .col(text_null(Ambitie::Description))
                .foreign_key(&mut cascade((Ambitie::Table, Ambitie::KoersplanId), (Koersplan::Table, Koersplan::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_ambitie_key", Ambitie::Table, cols!(Ambitie::KoersplanId, Ambitie::Key), true))
            .await?;

        m.create_table(
            Table::create()
                .table(Doel::Table)
                .col(big_pk_auto(Doel::Id))
                .col(big_integer(Doel::AmbitieId))
                .col(string(Doel::Key))
                .col(integer(Doel::Position))
                .col(text(Doel::Title))
                .col(text_null(Doel::Description))
                .foreign_key(&mut cascade((Doel::Table, Doel::AmbitieId), (Ambitie::Table, Ambitie::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_doel_key", Doel::Table, cols!(Doel::AmbitieId, Doel::Key), true)).await?;

        m.create_table(
            Table::create()
                .table(Indicator::Table)
                .col(big_pk_auto(Indicator::Id))
                .col(string_uniq(Indicator::Key))
                .col(string(Indicator::Name))
                .col(string(Indicator::Unit))
                .col(string(Indicator::Direction))
                .col(double(Indicator::Target))
                .col(double_null(Indicator::Baseline))
                .col(big_integer_null(Indicator::BestuurId))
                .col(big_integer_null(Indicator::KindcentrumId))
                .col(big_integer_null(Indicator::LocatieId))
                .col(big_integer_null(Indicator::GroepId))
                // The scope is a bestuur or a kindcentrum, optionally narrowed to one of its
                // locaties or groepen.
                .check(Expr::col(Indicator::BestuurId).is_null().ne(Expr::col(Indicator::KindcentrumId).is_null()))
                .foreign_key(&mut cascade((Indicator::Table, Indicator::BestuurId), (Bestuur::Table, Bestuur::Id)))
                .foreign_key(&mut cascade(
                    (Indicator::Table, Indicator::KindcentrumId),
                    (Kindcentrum::Table, Kindcentrum::Id),
                ))
                .foreign_key(&mut cascade((Indicator::Table, Indicator::LocatieId), (Locatie::Table, Locatie::Id)))
                .foreign_key(&mut cascade((Indicator::Table, Indicator::GroepId), (Groep::Table, Groep::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_indicator_bestuur", Indicator::Table, cols!(Indicator::BestuurId), false)).await?;
        m.create_index(index("idx_indicator_kindcentrum", Indicator::Table, cols!(Indicator::KindcentrumId), false))
            .await?;

        m.create_table(
            Table::create()
                .table(Succescriterium::Table)
                .col(big_pk_auto(Succescriterium::Id))
                .col(big_integer(Succescriterium::DoelId))
                .col(string(Succescriterium::Key))
                .col(integer(Succescriterium::Position))
                .col(text(Succescriterium::Description))
                .col(big_integer_null(Succescriterium::IndicatorId))
                .foreign_key(&mut cascade((Succescriterium::Table, Succescriterium::DoelId), (Doel::Table, Doel::Id)))
                .foreign_key(&mut restrict(
                    (Succescriterium::Table, Succescriterium::IndicatorId),
                    (Indicator::Table, Indicator::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_succescriterium_key",
            Succescriterium::Table,
            cols!(Succescriterium::DoelId, Succescriterium::Key),
            true,
        ))
        .await?;
        m.create_index(index(
            "idx_succescriterium_indicator",
            Succescriterium::Table,
            cols!(Succescriterium::IndicatorId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(PlanningItem::Table)
                .col(big_pk_auto(PlanningItem::Id))
                .col(big_integer(PlanningItem::DoelId))
                .col(string(PlanningItem::Key))
                .col(integer(PlanningItem::Position))
                .col(integer(PlanningItem::SchoolYear))
                .col(text(PlanningItem::Text))
                .col(string(PlanningItem::Status))
                .foreign_key(&mut cascade((PlanningItem::Table, PlanningItem::DoelId), (Doel::Table, Doel::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_planning_item_key",
            PlanningItem::Table,
            cols!(PlanningItem::DoelId, PlanningItem::Key),
            true,
        ))
        .await?;
        m.create_index(index(
            "idx_planning_item_order",
            PlanningItem::Table,
            cols!(PlanningItem::DoelId, PlanningItem::SchoolYear, PlanningItem::Position),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(DoelIndicator::Table)
                .col(big_integer(DoelIndicator::DoelId))
                .col(big_integer(DoelIndicator::IndicatorId))
                .primary_key(Index::create().col(DoelIndicator::DoelId).col(DoelIndicator::IndicatorId))
                .foreign_key(&mut cascade((DoelIndicator::Table, DoelIndicator::DoelId), (Doel::Table, Doel::Id)))
                .foreign_key(&mut cascade(
                    (DoelIndicator::Table, DoelIndicator::IndicatorId),
                    (Indicator::Table, Indicator::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_doel_indicator_indicator",
            DoelIndicator::Table,
            cols!(DoelIndicator::IndicatorId),
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Measurement::Table)
                .col(big_pk_auto(Measurement::Id))
                .col(big_integer(Measurement::IndicatorId))
                .col(date(Measurement::PeriodStart))
                .col(date(Measurement::PeriodEnd))
                .col(double(Measurement::Value))
                .col(string(Measurement::Source))
                .col(text_null(Measurement::Note))
                .check(Expr::col(Measurement::PeriodStart).lte(Expr::col(Measurement::PeriodEnd)))
                .foreign_key(&mut cascade(
                    (Measurement::Table, Measurement::IndicatorId),
                    (Indicator::Table, Indicator::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_measurement_period",
            Measurement::Table,
            cols!(Measurement::IndicatorId, Measurement::PeriodStart, Measurement::PeriodEnd),
            true,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents, so foreign keys never dangle.
        for table in [
            Measurement::Table.into_iden(),
            DoelIndicator::Table.into_iden(),
            PlanningItem::Table.into_iden(),
            Succescriterium::Table.into_iden(),
            Indicator::Table.into_iden(),
            Doel::Table.into_iden(),
            Ambitie::Table.into_iden(),
            Koersplan::Table.into_iden(),
            TeamMember::Table.into_iden(),
            Team::Table.into_iden(),
            ProfessionalKindcentrum::Table.into_iden(),
            ProfessionalFte::Table.into_iden(),
            ProfessionalRole::Table.into_iden(),
            Professional::Table.into_iden(),
            Groep::Table.into_iden(),
            LrkRegistration::Table.into_iden(),
            Locatie::Table.into_iden(),
            Onderdeel::Table.into_iden(),
            KindcentrumBestuur::Table.into_iden(),
            Kindcentrum::Table.into_iden(),
            Bestuur::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
