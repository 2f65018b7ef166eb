//! A deterministic national dataset, for the benchmarks and their smoke test.
//!
//! `N` kindcentra under about N/30 onderwijs besturen (with 1,000 kindcentra or more, the
//! first has 300 of them, so a large board can be measured too), each with a kinderopvang
//! houder for the opvang of the same kindcentra, as Kindcentrum Balans has Lucas Onderwijs
//! and Vlietkinderen. Each kindcentrum has:
//!
//! - the koersplan of Kindcentrum Balans (5 ambities, 19 doelen, 56 succescriteria and its
//!   meerjarenplanning of 4 school years), moved to the school years 2023-2024 to 2026-2027;
//! - 20 indicators with 12 measurements each (one per trimester of four school years),
//!   each linked to a succescriterium; the other succescriteria are judged by hand;
//! - a locatie with an onderwijs, a dagopvang and a BSO onderdeel, and 3 opvang groepen of 20
//!   children, each scanned on welbevinden and betrokkenheid in 4 quarters;
//! - 10 professionals, a locatieteam (all of them) and a kenniskring (five of them);
//! - 10 cycles per team (4xD for the locatieteam, PDCA for the kenniskring) of about 20
//!   events each, built with the cycle state machine, so each cycle equals the replay of
//!   its events; the last two of each team are still open;
//! - 100 coaching-hour entries in the year before the dataset's moment;
//! - the schedules of every template in `workflows/templates.toml`, the Evaluatie &
//!   Planningsdagen on five dates of the school year 2026-2027.
//!
//! The dataset describes the moment [`moment`], the first day of school year 2026-2027;
//! nothing depends on the clock. Each kindcentrum draws from its own random stream
//! (seed and number), so the same seed gives the same rows whatever the store. Rows are
//! written with explicit ids in one transaction per bestuur, with multi-row inserts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, IntoActiveModel,
    Iterable, PaginatorTrait, QueryOrder, TryIntoModel,
};
use serde_json::{Value, json};

use koers_engine::Engine;
use koers_engine::calendar::rule::instant;
use koers_engine::calendar::template::{TemplateOptions, templates};
use koers_engine::cycle::machine::{Command, CycleState, Event, Status, allowed_transitions};
use koers_engine::domain::ScheduleScope;
use koers_engine::domain::{
    BestuurKind, CoachingKind, Direction, OnderdeelKind, PlanningStatus, Role, ScanTechnique, SchoolYear, TeamKind,
    VacationRegion,
};
use koers_engine::error::{Error, Result};
use koers_engine::store::entity::*;
use koers_engine::workflow::{FieldType, TransitionKind, WorkflowDef};

/// Who wrote the generated events, marks and coaching entries.
const ACTOR: &str = "generated";
/// Kindcentra per bestuur, and in the one large bestuur of a national dataset.
const BESTUUR_SIZE: usize = 30;
const LARGE_BESTUUR_SIZE: usize = 300;
const INDICATORS: usize = 20;
const PROFESSIONALS: usize = 10;
const CYCLES_PER_TEAM: usize = 10;
const CHILDREN: usize = 20;
const COACHING_ENTRIES: usize = 100;
/// School years the koersplan of KC Balans (2019-2023) is moved forward by.
const YEARS_FORWARD: i32 = 4;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct GenerateOptions {
    pub kindcentra: usize,
    pub seed: u64,
}

/// What was generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenerateReport {
    pub besturen: usize,
    pub kindcentra: usize,
    pub rows: u64,
}

/// The moment the dataset describes: 1 August 2026, the first day of school year 2026-2027.
pub fn moment() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, 1).expect("a valid date")
}

/// The number of kindcentra of each bestuur.
pub fn bestuur_sizes(kindcentra: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = kindcentra;
    if kindcentra >= 1000 {
        sizes.push(LARGE_BESTUUR_SIZE);
        left -= LARGE_BESTUUR_SIZE;
    }
    while left > 0 {
        let size = left.min(BESTUUR_SIZE);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// Writes the dataset into the empty database of `engine`, whose workflows are registered.
#[tracing::instrument(skip(engine))]
pub async fn dataset(engine: &Engine, options: GenerateOptions) -> Result<GenerateReport> {
    if options.kindcentra == 0 {
        return Err(Error::Validation("generate at least one kindcentrum".into()));
    }
    let existing =
        kindcentrum::Entity::find().count(engine.db()).await? + bestuur::Entity::find().count(engine.db()).await?;
    if existing > 0 {
        return Err(Error::Validation(format!(
            "the database already holds {existing} besturen and kindcentra: generate into an empty database"
        )));
    }
    let workflow = |key: &str| {
        engine.workflow(key).ok_or_else(|| Error::Validation(format!("workflow `{key}` is not registered")))
    };
    let shape = Shape {
        outline: Outline::of_kc_balans().await?,
        vierxd: workflow("vierxd")?,
        pdca: workflow("pdca")?,
        templates: templates()?,
    };
    let mut ids = Ids::default();
    let mut report = GenerateReport::default();
    let mut first = 0;
    for (b, size) in bestuur_sizes(options.kindcentra).into_iter().enumerate() {
        let mut rows = Rows::default();
        let plaats = PLAATSEN[b % PLAATSEN.len()];
        let bestuur_id = ids.next("bestuur");
        rows.bestuur.push(bestuur::Model {
            id: bestuur_id,
            key: format!("bestuur-{:03}", b + 1),
            name: format!("Stichting Onderwijs {plaats} {}", b + 1),
            kind: BestuurKind::Onderwijs,
        });
        let houder_id = ids.next("bestuur");
        rows.bestuur.push(bestuur::Model {
            id: houder_id,
            key: format!("houder-{:03}", b + 1),
            name: format!("Kinderopvang {plaats} {}", b + 1),
            kind: BestuurKind::Kinderopvang,
        });
        for number in first..first + size {
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            Kindcentrum { shape: &shape, ids: &mut ids, rows: &mut rows, rng: &mut rng, number, bestuur_id, houder_id }
                .generate()?;
        }
        first += size;
        let txn = koers_engine::store::begin_write(engine.db()).await?;
        report.rows += rows.insert(&txn).await?;
        txn.commit().await?;
        report.besturen += 2;
        report.kindcentra += size;
        tracing::info!(bestuur = b + 1, kindcentra = report.kindcentra, rows = report.rows, "generated");
    }
    Rows::advance_sequences(engine.db()).await?;
    Ok(report)
}

/// Rows of each table, written in this order (parents before children).
macro_rules! rows {
    ($($table:ident),+ $(,)?) => {
        #[derive(Default)]
        struct Rows {
            $($table: Vec<$table::Model>,)+
        }

        impl Rows {
            async fn insert<C: ConnectionTrait>(&mut self, db: &C) -> Result<u64> {
                let mut written = 0;
                $(written += insert_all::<$table::Entity, _>(db, std::mem::take(&mut self.$table)).await?;)+
                Ok(written)
            }

            async fn advance_sequences<C: ConnectionTrait>(db: &C) -> Result<()> {
                $(koers_engine::store::advance_sequence::<$table::Entity, _>(db).await?;)+
                Ok(())
            }
        }
    };
}

rows!(
    bestuur,
    kindcentrum,
    kindcentrum_bestuur,
    onderdeel,
    locatie,
    lrk_registration,
    groep,
    professional,
    professional_role,
    professional_fte,
    professional_kindcentrum,
    team,
    team_member,
    koersplan,
    ambitie,
    doel,
    indicator,
    doel_indicator,
    succescriterium,
    planning_item,
    measurement,
    criterium_mark,
    cycle,
    cycle_doel,
    cycle_event,
    pitch,
    scan,
    scan_score,
    coaching_entry,
    coaching_coachee,
    schedule,
);

/// Inserts rows in statements of at most about 30,000 values (SQLite allows 32,766
/// parameters per statement, PostgreSQL 65,535).
async fn insert_all<E, C>(db: &C, mut rows: Vec<E::Model>) -> Result<u64>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    let per_statement = (30_000 / E::Column::iter().count()).max(1);
    let written = rows.len() as u64;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(per_statement));
        E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model)).exec_without_returning(db).await?;
        rows = rest;
    }
    Ok(written)
}

/// Next ids per table: the database is empty, so ids are given here and children can name
/// their parents before anything is written.
#[derive(Default)]
struct Ids(HashMap<&'static str, i64>);

impl Ids {
    fn next(&mut self, table: &'static str) -> i64 {
        let id = self.0.entry(table).or_default();
        *id += 1;
        *id
    }
}

/// What every kindcentrum is made of.
struct Shape {
    outline: Outline,
    vierxd: koers_engine::workflow::registry::WorkflowVersion,
    pdca: koers_engine::workflow::registry::WorkflowVersion,
    templates: Vec<koers_engine::calendar::template::Template>,
}

/// The koersplan of Kindcentrum Balans and its indicators, as the importer stores them.
struct Outline {
    koersplan: koersplan::Model,
    ambities: Vec<(ambitie::Model, Vec<DoelOutline>)>,
    indicators: Vec<indicator::Model>,
}

struct DoelOutline {
    doel: doel::Model,
    criteria: Vec<succescriterium::Model>,
    planning: Vec<planning_item::Model>,
}

impl Outline {
    /// Imports `workflows/examples/kc-balans.toml` into a database in memory and reads
    /// its koersplan back.
    async fn of_kc_balans() -> Result<Outline> {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let db: DatabaseConnection = Database::connect(options).await?;
        <koers_migrations::Migrator as koers_migrations::MigratorTrait>::up(&db, None).await?;
        koers_engine::io::import::import_str(
            &db,
            "kc-balans.toml",
            include_str!("../../workflows/examples/kc-balans.toml"),
        )
        .await?;
        let koersplan = koersplan::Entity::find()
            .one(&db)
            .await?
            .ok_or_else(|| Error::Validation("kc-balans.toml holds no koersplan".into()))?;
        let ambitie_rows = ambitie::Entity::find().order_by_asc(ambitie::Column::Position).all(&db).await?;
        let doelen = doel::Entity::find().order_by_asc(doel::Column::Position).all(&db).await?;
        let criteria = succescriterium::Entity::find().order_by_asc(succescriterium::Column::Position).all(&db).await?;
        let planning = planning_item::Entity::find()
            .order_by_asc(planning_item::Column::SchoolYear)
            .order_by_asc(planning_item::Column::Position)
            .all(&db)
            .await?;
        let ambities = ambitie_rows
            .into_iter()
            .map(|a| {
                let doelen = doelen
                    .iter()
                    .filter(|d| d.ambitie_id == a.id)
                    .map(|d| DoelOutline {
                        doel: d.clone(),
                        criteria: criteria.iter().filter(|c| c.doel_id == d.id).cloned().collect(),
                        planning: planning.iter().filter(|p| p.doel_id == d.id).cloned().collect(),
                    })
                    .collect();
                (a, doelen)
            })
            .collect();
        let indicators = indicator::Entity::find().order_by_asc(indicator::Column::Id).all(&db).await?;
        Ok(Outline { koersplan, ambities, indicators })
    }
}

/// One kindcentrum being generated.
struct Kindcentrum<'a> {
    shape: &'a Shape,
    ids: &'a mut Ids,
    rows: &'a mut Rows,
    rng: &'a mut ChaCha8Rng,
    /// Its number in the dataset, from 0.
    number: usize,
    /// The onderwijs bestuur, and the kinderopvang houder of the opvang onderdelen.
    bestuur_id: i64,
    houder_id: i64,
}

/// The professionals of a kindcentrum by what they do.
struct Staff {
    all: Vec<i64>,
    coach: i64,
    leerkrachten: Vec<i64>,
    medewerkers: Vec<i64>,
    kenniskring: Vec<i64>,
}

impl Kindcentrum<'_> {
    fn generate(mut self) -> Result<()> {
        let id = self.ids.next("kindcentrum");
        let plaats = PLAATSEN[self.number % PLAATSEN.len()];
        let name = format!("Kindcentrum {} {}", NAMEN[self.number % NAMEN.len()], self.number + 1);
        self.rows.kindcentrum.push(kindcentrum::Model {
            id,
            key: format!("kc-{:05}", self.number + 1),
            name: name.clone(),
            plaats: Some(plaats.to_owned()),
        });
        for bestuur_id in [self.bestuur_id, self.houder_id] {
            self.rows.kindcentrum_bestuur.push(kindcentrum_bestuur::Model { kindcentrum_id: id, bestuur_id });
        }
        let (locatie, groepen) = self.organisation(id, plaats);
        let staff = self.professionals(id);
        let teams = self.teams(id, &staff);
        let doelen = self.koersplan(id, &name);
        self.cycles(teams, &staff, &doelen);
        self.scans(&groepen);
        self.coaching(locatie, &staff);
        self.schedules(id)
    }

    /// Onderdelen, the locatie with its LRK registrations, and the groepen.
    fn organisation(&mut self, kc: i64, plaats: &str) -> (i64, Vec<i64>) {
        let mut onderdelen = HashMap::new();
        for (kind, name) in [
            (OnderdeelKind::Onderwijs, "Onderwijs"),
            (OnderdeelKind::Dagopvang, "Dagopvang"),
            (OnderdeelKind::Bso, "BSO"),
        ] {
            let id = self.ids.next("onderdeel");
            onderdelen.insert(kind, id);
            self.rows.onderdeel.push(onderdeel::Model {
                id,
                kindcentrum_id: kc,
                key: name.to_lowercase(),
                name: name.to_owned(),
                kind,
                bestuur_id: if kind.is_opvang() { self.houder_id } else { self.bestuur_id },
            });
        }
        let locatie = self.ids.next("locatie");
        let region = [VacationRegion::Noord, VacationRegion::Midden, VacationRegion::Zuid][self.number % 3];
        self.rows.locatie.push(locatie::Model {
            id: locatie,
            kindcentrum_id: kc,
            key: "hoofdlocatie".into(),
            name: "Hoofdlocatie".into(),
            address: Some(format!("Schoolstraat {}, {plaats}", self.number % 200 + 1)),
            vacation_region: Some(region),
        });
        for (n, kind) in [OnderdeelKind::Dagopvang, OnderdeelKind::Bso].into_iter().enumerate() {
            self.rows.lrk_registration.push(lrk_registration::Model {
                id: self.ids.next("lrk_registration"),
                locatie_id: locatie,
                number: format!("{:09}", 100_000_000 + self.number * 2 + n),
                onderdeel_id: onderdelen[&kind],
            });
        }
        let groepen = [
            ("dreumesen", "Dreumesen", OnderdeelKind::Dagopvang, 0, 2),
            ("peuters", "Peuters", OnderdeelKind::Dagopvang, 2, 4),
            ("bso", "BSO", OnderdeelKind::Bso, 4, 13),
        ];
        let groepen = groepen
            .into_iter()
            .map(|(key, name, kind, from, until)| {
                let id = self.ids.next("groep");
                self.rows.groep.push(groep::Model {
                    id,
                    locatie_id: locatie,
                    onderdeel_id: onderdelen[&kind],
                    key: key.into(),
                    name: name.into(),
                    max_children: Some(CHILDREN as i32),
                    age_from: Some(from),
                    age_until: Some(until),
                });
                id
            })
            .collect();
        (locatie, groepen)
    }

    fn professionals(&mut self, kc: i64) -> Staff {
        const ROLES: [&[Role]; PROFESSIONALS] = [
            &[Role::Directeur],
            &[Role::InternBegeleider, Role::Leerkracht],
            &[Role::PedagogischCoach, Role::PedagogischBeleidsmedewerker],
            &[Role::Locatiemanager],
            &[Role::Leerkracht],
            &[Role::Leerkracht],
            &[Role::Leerkracht],
            &[Role::PedagogischMedewerker],
            &[Role::PedagogischMedewerker],
            &[Role::PedagogischMedewerker],
        ];
        let mut staff = Staff {
            all: Vec::new(),
            coach: 0,
            leerkrachten: Vec::new(),
            medewerkers: Vec::new(),
            kenniskring: Vec::new(),
        };
        for (n, roles) in ROLES.iter().enumerate() {
            let id = self.ids.next("professional");
            let first = VOORNAMEN.choose(self.rng).copied().unwrap_or("Sam");
            let last = ACHTERNAMEN.choose(self.rng).copied().unwrap_or("Jansen");
            self.rows.professional.push(professional::Model {
                id,
                key: format!("kc-{:05}-p{:02}", self.number + 1, n + 1),
                name: format!("{first} {last}"),
                employer_bestuur_id: if roles.iter().any(|r| OPVANG_ROLES.contains(r)) {
                    self.houder_id
                } else {
                    self.bestuur_id
                },
                flexible: n == PROFESSIONALS - 1,
                left_on: None,
            });
            for role in *roles {
                self.rows.professional_role.push(professional_role::Model { professional_id: id, role: *role });
            }
            self.rows.professional_fte.push(professional_fte::Model {
                professional_id: id,
                valid_from: NaiveDate::from_ymd_opt(2022, 1, 1).expect("a valid date"),
                fte: f64::from(self.rng.random_range(5..=10_u8)) / 10.0,
            });
            self.rows
                .professional_kindcentrum
                .push(professional_kindcentrum::Model { professional_id: id, kindcentrum_id: kc });
            staff.all.push(id);
            if roles.contains(&Role::PedagogischCoach) {
                staff.coach = id;
            }
            if roles.contains(&Role::Leerkracht) {
                staff.leerkrachten.push(id);
            }
            if roles.contains(&Role::PedagogischMedewerker) {
                staff.medewerkers.push(id);
            }
            if roles.iter().any(|r| matches!(r, Role::InternBegeleider | Role::PedagogischCoach | Role::Leerkracht))
                && staff.kenniskring.len() < 5
            {
                staff.kenniskring.push(id);
            }
        }
        staff
    }

    /// The locatieteam and the kenniskring.
    fn teams(&mut self, kc: i64, staff: &Staff) -> [i64; 2] {
        let teams = [
            ("locatieteam", "Locatieteam", TeamKind::Locatieteam, &staff.all),
            ("kenniskring-lezen", "Kenniskring lezen", TeamKind::Kenniskring, &staff.kenniskring),
        ];
        teams.map(|(key, name, kind, members)| {
            let id = self.ids.next("team");
            self.rows.team.push(team::Model { id, kindcentrum_id: kc, key: key.into(), name: name.into(), kind });
            for professional_id in members {
                self.rows.team_member.push(team_member::Model { team_id: id, professional_id: *professional_id });
            }
            id
        })
    }

    /// The koersplan of KC Balans with its indicators and their measurements; answers the
    /// ids of its doelen.
    fn koersplan(&mut self, kc: i64, name: &str) -> Vec<i64> {
        let outline = &self.shape.outline;
        let forward = |year: SchoolYear| SchoolYear::starting(year.start_year() + YEARS_FORWARD);
        let plan = &outline.koersplan;
        let koersplan_id = self.ids.next("koersplan");
        let (first, last) = (forward(plan.first_school_year), forward(plan.last_school_year));
        self.rows.koersplan.push(koersplan::Model {
            id: koersplan_id,
            key: format!("kc-{:05}-koersplan-{}-{}", self.number + 1, first.start_year(), last.start_year() + 1),
            kindcentrum_id: kc,
            title: format!("Koersplan {name} {}-{}", first.start_year(), last.start_year() + 1),
            first_school_year: first,
            last_school_year: last,
            visie: plan.visie.clone(),
            pijlers: plan.pijlers.clone(),
        });

        let indicators = self.indicators(kc);
        let mut doelen = Vec::new();
        let mut criteria = Vec::new();
        for (ambitie, doel_outlines) in &outline.ambities {
            let ambitie_id = self.ids.next("ambitie");
            self.rows.ambitie.push(ambitie::Model { id: ambitie_id, koersplan_id, ..ambitie.clone() });
            for d in doel_outlines {
                let doel_id = self.ids.next("doel");
                doelen.push(doel_id);
                self.rows.doel.push(doel::Model { id: doel_id, ambitie_id, ..d.doel.clone() });
                for c in &d.criteria {
                    let id = self.ids.next("succescriterium");
                    criteria.push((id, doel_id));
                    self.rows.succescriterium.push(succescriterium::Model {
                        id,
                        doel_id,
                        indicator_id: None,
                        ..c.clone()
                    });
                }
                for p in &d.planning {
                    let school_year = forward(p.school_year);
                    // Past school years are mostly done; the current one is under way.
                    let status = if school_year < SchoolYear::containing(moment()) {
                        *[
                            PlanningStatus::Afgerond,
                            PlanningStatus::Afgerond,
                            PlanningStatus::Afgerond,
                            PlanningStatus::Gestart,
                        ]
                        .choose(self.rng)
                        .unwrap_or(&PlanningStatus::Afgerond)
                    } else {
                        PlanningStatus::Gepland
                    };
                    self.rows.planning_item.push(planning_item::Model {
                        id: self.ids.next("planning_item"),
                        doel_id,
                        school_year,
                        status,
                        ..p.clone()
                    });
                }
            }
        }
        // Every indicator backs one succescriterium, spread over the doelen.
        let step = criteria.len() / INDICATORS.max(1);
        for (n, indicator_id) in indicators.iter().enumerate() {
            let (criterium, doel_id) = criteria[n * step];
            if let Some(row) = self.rows.succescriterium.iter_mut().rev().find(|c| c.id == criterium) {
                row.indicator_id = Some(*indicator_id);
            }
            self.rows.doel_indicator.push(doel_indicator::Model { doel_id, indicator_id: *indicator_id });
        }
        // The other criteria were judged on the Evaluatie & Planningsdagen; how many were
        // met differs per kindcentrum, so the signals differ too.
        let linked: Vec<i64> = (0..INDICATORS).map(|n| criteria[n * step].0).collect();
        let share: f64 = self.rng.random_range(0.45..0.98);
        for (n, (criterium, _)) in criteria.iter().filter(|(c, _)| !linked.contains(c)).enumerate() {
            self.rows.criterium_mark.push(criterium_mark::Model {
                id: self.ids.next("criterium_mark"),
                succescriterium_id: *criterium,
                met: self.rng.random_bool(share),
                cycle_id: None,
                measurement_id: None,
                note: Some("Besproken op de Evaluatie & Planningsdag".into()),
                actor: ACTOR.into(),
                at: at(moment() - Duration::days(7 * (n as i64 % 40 + 1)), 16),
                recorded_at: at(moment() - Duration::days(7 * (n as i64 % 40 + 1)), 16),
            });
        }
        doelen
    }

    /// The indicators of KC Balans, then more kengetallen up to 20, each with a
    /// measurement per trimester of the last four school years.
    fn indicators(&mut self, kc: i64) -> Vec<i64> {
        let mut ids = Vec::new();
        for n in 0..INDICATORS {
            let id = self.ids.next("indicator");
            let row = match self.shape.outline.indicators.get(n) {
                Some(template) => indicator::Model {
                    id,
                    key: format!("kc-{:05}-{}", self.number + 1, template.key),
                    bestuur_id: None,
                    kindcentrum_id: Some(kc),
                    locatie_id: None,
                    groep_id: None,
                    ..template.clone()
                },
                None => indicator::Model {
                    id,
                    key: format!("kc-{:05}-kengetal-{:02}", self.number + 1, n + 1),
                    name: format!("Kengetal {}", n + 1),
                    unit: "%".into(),
                    direction: if n % 4 == 3 { Direction::AtMost } else { Direction::AtLeast },
                    target: if n % 4 == 3 { 10.0 } else { 80.0 },
                    baseline: Some(if n % 4 == 3 { 20.0 } else { 65.0 }),
                    bestuur_id: None,
                    kindcentrum_id: Some(kc),
                    locatie_id: None,
                    groep_id: None,
                },
            };
            // Values move from the baseline toward (and past, for some) the target.
            let start = row.baseline.unwrap_or(row.target * 0.8);
            let reach: f64 = self.rng.random_range(0.6..1.3);
            for t in 0..12 {
                let year = SchoolYear::containing(moment()).start_year() - 4 + t / 3;
                let (from, until) = trimester(year, t % 3);
                let share = f64::from(t + 1) / 12.0 * reach;
                let noise: f64 = self.rng.random_range(-0.03..0.03) * row.target.abs().max(1.0);
                let value = ((start + (row.target - start) * share + noise) * 10.0).round() / 10.0;
                self.rows.measurement.push(measurement::Model {
                    id: self.ids.next("measurement"),
                    indicator_id: id,
                    period_start: from,
                    period_end: until,
                    value,
                    source: "leerlingvolgsysteem".into(),
                    note: None,
                });
            }
            ids.push(id);
            self.rows.indicator.push(row);
        }
        ids
    }

    /// Ten cycles per team, run through the state machine.
    fn cycles(&mut self, [locatieteam, kenniskring]: [i64; 2], staff: &Staff, doelen: &[i64]) {
        let runs = [(locatieteam, true), (kenniskring, false)];
        for (team_id, vierxd) in runs {
            for n in 0..CYCLES_PER_TEAM {
                let workflow = if vierxd { &self.shape.vierxd } else { &self.shape.pdca };
                let open = n >= CYCLES_PER_TEAM - 2;
                // Ten cycles over the last two school years, the open ones last.
                let start = moment() - Duration::days(700) + Duration::days(70 * n as i64);
                let doel = *doelen.choose(self.rng).unwrap_or(&0);
                let title = if vierxd {
                    format!("4xD Evaluatie & Planningsdag {}", n + 1)
                } else {
                    format!("Experiment {} kenniskring lezen", n + 1)
                };
                self.cycle(workflow, team_id, title, start, open, doel, &staff.leerkrachten);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn cycle(
        &mut self,
        workflow: &koers_engine::workflow::registry::WorkflowVersion,
        team_id: i64,
        title: String,
        start: NaiveDate,
        open: bool,
        doel: i64,
        pitchers: &[i64],
    ) {
        let def = &workflow.def;
        let id = self.ids.next("cycle");
        let phases: Vec<&str> = def.phases.iter().filter(|p| !p.terminal).map(|p| p.key.as_str()).collect();
        let due_dates: BTreeMap<String, NaiveDate> = phases
            .iter()
            .enumerate()
            .map(|(n, p)| ((*p).to_owned(), start + Duration::days(14 * (n as i64 + 1))))
            .collect();
        let started = Event::Started {
            workflow: def.key.clone(),
            workflow_version: workflow.version,
            title: title.clone(),
            phase: def.initial().key.clone(),
            team_id: Some(team_id),
            professional_id: None,
            groep_id: None,
            kindcentrum_id: None,
            occurrence_id: None,
            doelen: vec![doel],
            due_dates: due_dates.clone(),
        };
        let mut state = CycleState::started(&def.initial().key);
        let mut events = vec![(started, state.iteration, start)];
        let mut day = start;
        // About twenty events: fields and a move per phase, pitches on the 4xD days, two
        // rounds, then borgen; the open ones stop part-way.
        let target = if open { self.rng.random_range(10..18) } else { self.rng.random_range(19..24) };
        while events.len() < target && state.status == Status::Open {
            let mut commands = vec![Command::UpdateFields { values: self.values(def, &state.phase, doel) }];
            if def.pitches && state.phase == def.initial().key {
                for (n, professional_id) in pitchers.iter().take(2).enumerate() {
                    commands.push(Command::AddPitch {
                        professional_id: *professional_id,
                        date: day + Duration::days(n as i64),
                        did: "Ik heb de instructie in drie niveaus gegeven.".into(),
                        yielded: "Meer kinderen werkten zelfstandig door.".into(),
                    });
                }
            }
            commands.push(self.next_move(def, &state, events.len() + 2 >= target, doel));
            for command in commands {
                day += Duration::days(self.rng.random_range(1..6));
                // A move the definition does not allow here is left for the next round.
                let Ok(event) = state.decide(def, command) else { continue };
                state.apply(&event);
                if let Event::PitchAdded { professional_id, date, did, yielded } = &event {
                    self.rows.pitch.push(pitch::Model {
                        id: self.ids.next("pitch"),
                        cycle_id: id,
                        professional_id: *professional_id,
                        date: *date,
                        did: did.clone(),
                        yielded: yielded.clone(),
                    });
                }
                events.push((event, state.iteration, day));
            }
        }
        for (sequence, (event, iteration, day)) in events.iter().enumerate() {
            let (from, to) = event.phases();
            self.rows.cycle_event.push(cycle_event::Model {
                id: self.ids.next("cycle_event"),
                cycle_id: id,
                sequence: sequence as i64 + 1,
                kind: event.kind(),
                actor: ACTOR.into(),
                at: at(*day, 15),
                from_phase: from.map(str::to_owned),
                to_phase: to.map(str::to_owned),
                iteration: *iteration,
                data: serde_json::to_string(event).expect("JSON of plain data"),
            });
        }
        let current_due = (state.status == Status::Open).then(|| due_dates.get(&state.phase).copied()).flatten();
        self.rows.cycle.push(cycle::Model {
            id,
            workflow_version_id: workflow.id,
            workflow_key: def.key.clone(),
            title,
            team_id: Some(team_id),
            professional_id: None,
            groep_id: None,
            kindcentrum_id: None,
            status: state.status,
            phase: state.phase.clone(),
            iteration: state.iteration,
            outcome: state.outcome.clone(),
            fields: serde_json::to_string(&state.fields).expect("JSON of plain data"),
            due_dates: serde_json::to_string(&due_dates).expect("JSON of plain data"),
            current_due,
            version: state.version,
            created_at: at(start, 9),
            updated_at: at(day, 15),
            occurrence_id: None,
        });
        self.rows.cycle_doel.push(cycle_doel::Model { cycle_id: id, doel_id: doel });
    }

    /// The move out of the current phase: onward, a new round after the second-to-last
    /// phase, or closing once it is time to stop.
    fn next_move(&mut self, def: &WorkflowDef, state: &CycleState, stop: bool, doel: i64) -> Command {
        let moves = allowed_transitions(def, state);
        let close = moves.iter().find(|(_, kind)| *kind == TransitionKind::Close);
        if let (true, Some((to, _))) = (stop, close) {
            let terminal = def.phase(to);
            let outcome = terminal.and_then(|p| p.outcomes.first()).cloned().unwrap_or_default();
            return Command::Close { outcome, values: self.values(def, to, doel) };
        }
        let pick = moves
            .iter()
            .find(|(_, kind)| *kind == TransitionKind::Advance)
            .or_else(|| moves.iter().find(|(_, kind)| *kind == TransitionKind::Iterate))
            .or(close);
        match pick {
            Some((to, TransitionKind::Close)) => {
                let outcome = def.phase(to).and_then(|p| p.outcomes.first()).cloned().unwrap_or_default();
                Command::Close { outcome, values: self.values(def, to, doel) }
            }
            Some((to, _)) => Command::Advance { to: to.clone(), values: Default::default() },
            None => Command::UpdateFields { values: Default::default() },
        }
    }

    /// A value for every field of a phase.
    fn values(&mut self, def: &WorkflowDef, phase: &str, doel: i64) -> BTreeMap<String, Value> {
        let Some(phase) = def.phase(phase) else { return BTreeMap::new() };
        phase
            .fields
            .iter()
            .map(|field| {
                let value = match field.kind {
                    FieldType::Text => json!(format!("{} (ronde {})", field.name, self.rng.random_range(1..4))),
                    FieldType::Number => json!(self.rng.random_range(1..100)),
                    FieldType::Date => json!(moment().to_string()),
                    FieldType::Choice => json!(field.options.first().cloned().unwrap_or_default()),
                    FieldType::List => json!([format!("{} 1", field.name), format!("{} 2", field.name)]),
                    FieldType::Doel => json!(doel),
                    FieldType::Indicator => Value::Null,
                };
                (field.key.clone(), value)
            })
            .collect()
    }

    /// Four quarterly scans of each groep, a score per child.
    fn scans(&mut self, groepen: &[i64]) {
        let quarters = [(2025, 3_u32), (2025, 4), (2026, 1), (2026, 2)];
        for (g, groep_id) in groepen.iter().enumerate() {
            for (year, quarter) in quarters {
                let scanned_on =
                    koers_engine::calendar::rule::nth_weekday(year, (quarter - 1) * 3 + 1, chrono::Weekday::Mon, 1)
                        .unwrap_or_default();
                let scan_id = self.ids.next("scan");
                self.rows.scan.push(scan::Model {
                    id: scan_id,
                    groep_id: *groep_id,
                    year,
                    quarter: quarter as i32,
                    scanned_on,
                    technique: ScanTechnique::Kind,
                    cycle_id: None,
                    iteration: None,
                    note: None,
                    actor: ACTOR.into(),
                    created_at: at(scanned_on, 17),
                    folded_at: None,
                    distribution: None,
                });
                for child in 0..CHILDREN {
                    let score = |rng: &mut ChaCha8Rng| f64::from(rng.random_range(4..=10_u8)) / 2.0;
                    self.rows.scan_score.push(scan_score::Model {
                        id: self.ids.next("scan_score"),
                        scan_id,
                        child_code: Some(format!("k{:05}-g{}-{:02}", self.number + 1, g + 1, child + 1)),
                        welbevinden: score(self.rng),
                        betrokkenheid: score(self.rng),
                    });
                }
            }
        }
    }

    /// A hundred entries of the pedagogisch coach in the year before the moment.
    fn coaching(&mut self, locatie: i64, staff: &Staff) {
        for n in 0..COACHING_ENTRIES {
            let id = self.ids.next("coaching_entry");
            let date = moment() - Duration::days(365) + Duration::days((n * 365 / COACHING_ENTRIES) as i64);
            let kind = match n % 5 {
                0 => CoachingKind::Beleid,
                1 => CoachingKind::CoachingTeam,
                _ => CoachingKind::CoachingIndividueel,
            };
            let coachees: Vec<i64> = match kind {
                CoachingKind::Beleid => Vec::new(),
                CoachingKind::CoachingTeam => staff.medewerkers.clone(),
                CoachingKind::CoachingIndividueel => staff.medewerkers.choose(self.rng).copied().into_iter().collect(),
            };
            self.rows.coaching_entry.push(coaching_entry::Model {
                id,
                bestuur_id: self.houder_id,
                coach_id: staff.coach,
                date,
                hours: f64::from(self.rng.random_range(2..=6_u8)) / 2.0,
                kind,
                locatie_id: Some(locatie),
                note: None,
                actor: ACTOR.into(),
                created_at: at(date, 17),
                withdrawn_at: None,
                withdrawn_reason: None,
            });
            for professional_id in coachees {
                self.rows.coaching_coachee.push(coaching_coachee::Model { coaching_entry_id: id, professional_id });
            }
        }
    }

    /// Every template applied to the kindcentrum, as at the moment.
    fn schedules(&mut self, kc: i64) -> Result<()> {
        let year = moment().year();
        // The five Evaluatie & Planningsdagen, a little apart per kindcentrum.
        let offset = (self.number % 5) as i64;
        let ep_dagen: Vec<NaiveDateTime> =
            [(year, 10, 5), (year, 12, 7), (year + 1, 2, 8), (year + 1, 4, 12), (year + 1, 6, 14)]
                .into_iter()
                .filter_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
                .map(|d| {
                    (d + Duration::days(offset)).and_time(NaiveTime::from_hms_opt(8, 30, 0).expect("a valid time"))
                })
                .collect();
        for template in &self.shape.templates {
            let options = TemplateOptions { dates: ep_dagen.clone(), ..Default::default() };
            let spec = template.clone().spec(ScheduleScope::Kindcentrum(kc), options)?;
            let mut row = spec.new_row(at(moment(), 0))?;
            row.id = sea_orm::Set(self.ids.next("schedule"));
            self.rows.schedule.push(row.try_into_model()?);
        }
        Ok(())
    }
}

/// The instant of a date at a Dutch wall-clock hour.
fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    instant(date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).expect("a valid time")))
}

/// The trimesters of a school year: August to November, December to March, April to July.
fn trimester(start_year: i32, n: i32) -> (NaiveDate, NaiveDate) {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    match n {
        0 => (date(start_year, 8, 1), date(start_year, 11, 30)),
        1 => (date(start_year, 12, 1), date(start_year + 1, 3, 31)),
        _ => (date(start_year + 1, 4, 1), date(start_year + 1, 7, 31)),
    }
}

/// The roles of professionals the kinderopvang houder employs.
const OPVANG_ROLES: [Role; 3] = [Role::PedagogischCoach, Role::PedagogischMedewerker, Role::Locatiemanager];

const PLAATSEN: [&str; 12] = [
    "Den Haag",
    "Utrecht",
    "Alkmaar",
    "Zwolle",
    "Eindhoven",
    "Groningen",
    "Leiden",
    "Arnhem",
    "Tilburg",
    "Heerhugowaard",
    "Amersfoort",
    "Deventer",
];

const NAMEN: [&str; 10] = [
    "De Regenboog",
    "Het Kompas",
    "De Vlinder",
    "Balans",
    "De Klinker",
    "Het Anker",
    "De Linde",
    "Octopus",
    "De Wereldwijzer",
    "Heidevlinder",
];

const VOORNAMEN: [&str; 12] =
    ["Anouk", "Bram", "Chantal", "Daan", "Esra", "Fleur", "Gijs", "Hanna", "Ilse", "Jeroen", "Kim", "Lotte"];

const ACHTERNAMEN: [&str; 12] = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Yilmaz",
    "Mulder",
    "Bos",
    "El Amrani",
];
