//! Domain value types, parsed once at the edge ("parse, don't validate").
//!
//! Enumerations are stored as their kebab-case name, the same spelling the import files
//! and the API use.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, Iterable};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "kebab-case")]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
    };
}

text_enum!(
    /// What kind of board a bestuur is.
    BestuurKind { Onderwijs, Kinderopvang, Samenwerkingsverband }
);

text_enum!(
    /// The part of a kindcentrum an onderdeel provides; each is owned by one bestuur.
    OnderdeelKind { Onderwijs, Dagopvang, Peuteropvang, Bso }
);

text_enum!(
    /// The kinds of team professionals work in.
    TeamKind { Kenniskring, Plg, Werkgroep, Unit, Locatieteam }
);

text_enum!(
    /// A role a professional holds; a professional may hold several.
    Role {
        Leerkracht,
        PedagogischMedewerker,
        InternBegeleider,
        PedagogischCoach,
        PedagogischBeleidsmedewerker,
        Directeur,
        AdjunctDirecteur,
        Locatiemanager,
        Clustermanager,
        Onderwijsassistent,
        Onderwijsondersteuner,
        AmbulantLeerkracht,
    }
);

text_enum!(
    /// Whether an indicator's target is a floor or a ceiling.
    Direction { AtLeast, AtMost }
);

text_enum!(
    /// The OGSM status signal of a koersplan, ambitie or doel.
    Signal { Afgerond, OpKoers, OpKoersMetAandacht, NietOpKoers }
);

text_enum!(
    /// Progress of a planned activity of the meerjarenplanning. Files written before the
    /// statuses had the schools' names say `bezig` and `gereed`; they still read.
    PlanningStatus {
        Gepland,
        #[serde(alias = "bezig")]
        Gestart,
        #[serde(alias = "gereed")]
        Afgerond,
        Vervallen,
    }
);

text_enum!(
    /// The school-holiday region of a locatie, assigned per gemeente.
    VacationRegion { Noord, Midden, Zuid }
);

text_enum!(
    /// What hours of the coaching log are spent on (wet IKK): coaching of pedagogisch
    /// medewerkers, one by one or as a team, or work on pedagogisch beleid.
    CoachingKind { CoachingIndividueel, CoachingTeam, Beleid }
);

text_enum!(
    /// Whether a cycle runs or has ended in a terminal phase: the status of
    /// `cycle::machine` (there as `Status`), here because the `cycle` table stores it.
    CycleStatus { Open, Closed }
);

/// What one recorded change of a cycle was: the `kind` of a `cycle::machine::Event`, stored
/// in the `kind` column of `cycle_event` as the event's JSON spells it (snake_case).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CycleEventKind {
    Started,
    FieldsUpdated,
    Advanced,
    Iterated,
    Closed,
    Reopened,
    PitchAdded,
}

text_enum!(
    /// Where an occurrence of a schedule stands: waiting to fire, fired, missed while koers
    /// was down, skipped (a holiday, a skip date, a paused schedule), or failed (its note
    /// says why).
    OccurrenceStatus { Pending, Fired, Missed, Skipped, Failed }
);

text_enum!(
    /// How a groep was scanned (`evidence::scan`, there as `Technique`).
    ScanTechnique {
        /// A score per child, under a child code.
        Kind,
        /// The group scanning technique: one score for the whole groep.
        Groep,
    }
);

text_enum!(
    /// What kind of unit a [`ScheduleScope`] is.
    ScheduleScopeKind { Bestuur, Kindcentrum, Locatie, Groep, Team }
);

text_enum!(
    /// What a recorded change did to its row.
    ChangeAction {
        Created,
        Updated,
        /// Withdrawn or archived: the row stays, in its history, and no longer counts.
        Withdrawn,
        /// Removed by an import that no longer lists it.
        Removed,
    }
);

text_enum!(
    /// Through which front a change came.
    Front {
        /// The GraphQL API (and the web front, which calls it).
        Api,
        /// `koers import` of TOML files.
        Import,
        /// `koers import` of spreadsheets (CSV).
        Csv,
        /// The scheduler and the retention job.
        Scheduler,
        /// Other commands of the operator (`koers restore`, ...).
        Cli,
    }
);

/// Who makes the changes an engine records: the actor, the name it had then, and the
/// front it came through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `token:ID` for an API caller; the front's name otherwise.
    pub id: String,
    pub name: String,
    pub front: Front,
}

impl Actor {
    /// The engine acting for one of its own fronts (the scheduler, an import, ...).
    pub fn of(front: Front) -> Actor {
        let id = front.to_string();
        Actor { name: format!("koers {id}"), id, front }
    }
}

/// Printed as stored, for messages.
macro_rules! display_as_stored {
    ($($name:ident),+) => {
        $(impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_value())
            }
        })+
    };
}

display_as_stored!(
    CycleStatus,
    CycleEventKind,
    OccurrenceStatus,
    ScanTechnique,
    ScheduleScopeKind,
    ChangeAction,
    Front
);

impl CycleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CycleStatus::Open => "open",
            CycleStatus::Closed => "closed",
        }
    }
}

impl ScheduleScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleScopeKind::Bestuur => "bestuur",
            ScheduleScopeKind::Kindcentrum => "kindcentrum",
            ScheduleScopeKind::Locatie => "locatie",
            ScheduleScopeKind::Groep => "groep",
            ScheduleScopeKind::Team => "team",
        }
    }
}

impl ScanTechnique {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanTechnique::Kind => "kind",
            ScanTechnique::Groep => "groep",
        }
    }
}

impl CoachingKind {
    /// The kinds that count as coaching (10 hours x FTE); the rest is beleid (50 hours x
    /// kindercentra).
    pub const COACHING: [CoachingKind; 2] = [CoachingKind::CoachingIndividueel, CoachingKind::CoachingTeam];

    /// Whether these hours coach pedagogisch medewerkers (and so name coachees).
    pub fn is_coaching(self) -> bool {
        self != CoachingKind::Beleid
    }
}

impl OnderdeelKind {
    /// The kinds of opvang: each kindercentrum of the wet IKK is one of these.
    pub const OPVANG: [OnderdeelKind; 3] = [OnderdeelKind::Dagopvang, OnderdeelKind::Peuteropvang, OnderdeelKind::Bso];

    pub fn is_opvang(self) -> bool {
        OnderdeelKind::OPVANG.contains(&self)
    }
}

impl Direction {
    /// Whether `value` satisfies `target` in this direction.
    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Direction::AtLeast => value >= target,
            Direction::AtMost => value <= target,
        }
    }

    /// [`Direction::meets`] as SQL, for statements that count met succescriteria without
    /// reading them one by one (the national roll-up): the same comparison per direction,
    /// written beside it so the two cannot drift apart unnoticed. False when the value or
    /// the direction is NULL.
    pub(crate) fn meets_in_sql(direction: Expr, value: Expr, target: Expr) -> Condition {
        Direction::iter().fold(Condition::any(), |any, d| {
            let test = match d {
                Direction::AtLeast => value.clone().gte(target.clone()),
                Direction::AtMost => value.clone().lte(target.clone()),
            };
            any.add(Condition::all().add(direction.clone().eq(Expr::val(d.to_value()))).add(test))
        })
    }
}

/// A Dutch school year, 1 August to 31 July, written `2019-2020`; stored as its first
/// calendar year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType)]
pub struct SchoolYear(i32);

impl SchoolYear {
    /// The school year that starts on 1 August of `year`.
    pub fn starting(year: i32) -> Self {
        SchoolYear(year)
    }

    /// The school year a date falls in.
    pub fn containing(date: NaiveDate) -> Self {
        if date.month() >= 8 { SchoolYear(date.year()) } else { SchoolYear(date.year() - 1) }
    }

    pub fn start_year(self) -> i32 {
        self.0
    }

    /// 1 August, the first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 8, 1).unwrap_or(NaiveDate::MIN)
    }

    /// 31 July, the last day.
    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 7, 31).unwrap_or(NaiveDate::MAX)
    }
}

impl fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.0 + 1)
    }
}

/// Why a text is not a school year.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchoolYearError {
    #[error("`{0}` is not a school year; write it as `2019-2020`")]
    Format(String),
    #[error("`{0}` is not a school year: the second year must follow the first")]
    NotConsecutive(String),
}

impl FromStr for SchoolYear {
    type Err = SchoolYearError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let format = || SchoolYearError::Format(s.to_owned());
        let (first, second) = s.split_once('-').ok_or_else(format)?;
        let parse = |part: &str| -> Result<i32, SchoolYearError> {
            if part.len() != 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format());
            }
            part.parse().map_err(|_| format())
        };
        let (first, second) = (parse(first)?, parse(second)?);
        if second != first + 1 {
            return Err(SchoolYearError::NotConsecutive(s.to_owned()));
        }
        Ok(SchoolYear(first))
    }
}

impl Serialize for SchoolYear {
    /// Written as the Deserialize impl reads it: `2019-2020`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchoolYear {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A stable key chosen by the author of an import file: 1 to 64 characters of lower-case
/// letters, digits, `-` and `_`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Key {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        let starts_well = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if s.is_empty() || s.len() > 64 || !starts_well || !s.chars().all(valid_char) {
            return Err(format!(
                "`{s}` is not a key: use 1 to 64 lower-case letters, digits, `-` or `_`, starting with a letter or digit"
            ));
        }
        Ok(Key(s.to_owned()))
    }
}

/// The stem of a key for a row people name (a doel's title, a professional's name):
/// lower-case letters, digits and dashes, at most 48 of them; `fallback` when none is left.
pub fn slug(title: &str, fallback: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'ä' | 'â' => 'a',
            'è' | 'é' | 'ë' | 'ê' => 'e',
            'ì' | 'í' | 'ï' | 'î' => 'i',
            'ò' | 'ó' | 'ö' | 'ô' => 'o',
            'ù' | 'ú' | 'ü' | 'û' => 'u',
            c => c,
        };
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { fallback.to_owned() } else { slug.to_owned() }
}

/// `stem`, or `stem-2`, `stem-3`, ...: the first that is not `taken`.
pub fn fresh_key(stem: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| if n == 1 { stem.to_owned() } else { format!("{stem}-{n}") })
        .find(|key| !taken(key))
        .unwrap_or_else(|| stem.to_owned())
}

/// The FTE of a professional: from 0 (on leave) to 2 (two full-time jobs).
pub fn check_fte(value: f64) -> Result<f64, String> {
    if !(0.0..=2.0).contains(&value) {
        return Err(format!("fte {value} must be between 0 and 2"));
    }
    Ok(value)
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_titles_and_stay_unique() {
        let taken = |k: &str| k == "leesplezier";
        assert_eq!(fresh_key(&slug("Leesplezier", "doel"), taken), "leesplezier-2");
        assert_eq!(slug("Eigenaarschap bij élk kind!", "doel"), "eigenaarschap-bij-elk-kind");
        assert_eq!(slug("!!", "doel"), "doel");
        let long = fresh_key(&slug(&"x".repeat(100), "doel"), |_| false);
        assert!(long.len() <= 48 && long.parse::<Key>().is_ok());
    }

    #[test]
    fn planning_statuses_written_before_their_renaming_still_read() {
        let read = |text: &str| serde_json::from_str::<PlanningStatus>(&format!("\"{text}\"")).expect("a status");
        assert_eq!(read("bezig"), PlanningStatus::Gestart);
        assert_eq!(read("gereed"), PlanningStatus::Afgerond);
        assert_eq!(read("afgerond"), PlanningStatus::Afgerond);
        assert_eq!(serde_json::to_string(&PlanningStatus::Afgerond).expect("json"), "\"afgerond\"");
    }

    #[test]
    fn an_fte_lies_between_0_and_2() {
        assert!(check_fte(0.0).is_ok() && check_fte(1.2).is_ok() && check_fte(2.0).is_ok());
        for wrong in [-0.1, 2.5, f64::NAN] {
            assert!(check_fte(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn school_year_parses_and_prints() {
        let year: SchoolYear = "2019-2020".parse().expect("valid");
        assert_eq!(year.start_year(), 2019);
        assert_eq!(year.to_string(), "2019-2020");
        assert_eq!(year.first_day(), NaiveDate::from_ymd_opt(2019, 8, 1).expect("date"));
        assert_eq!(year.last_day(), NaiveDate::from_ymd_opt(2020, 7, 31).expect("date"));
    }

    #[test]
    fn school_year_serializes_as_it_deserializes() {
        let year: SchoolYear = serde_json::from_value(serde_json::json!("2019-2020")).expect("valid");
        assert_eq!(serde_json::to_value(year).expect("json"), "2019-2020");
    }

    #[test]
    fn school_year_rejects_bad_text() {
        for bad in ["2019", "2019-2021", "19-20", "2019/2020", "abcd-efgh", "", "2019-2020-2021"] {
            assert!(bad.parse::<SchoolYear>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn school_year_containing_a_date() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(SchoolYear::containing(date(2022, 7, 31)), SchoolYear::starting(2021));
        assert_eq!(SchoolYear::containing(date(2022, 8, 1)), SchoolYear::starting(2022));
    }

    #[test]
    fn keys() {
        assert!("kc-balans".parse::<Key>().is_ok());
        assert!("doel_1".parse::<Key>().is_ok());
        for bad in ["", "KC", "-x", "a b", "é", &"x".repeat(65)] {
            assert!(bad.parse::<Key>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn coaching_kinds_are_spelled_in_kebab_case() {
        let spelled = |kind: CoachingKind| serde_json::to_value(kind).expect("json");
        assert_eq!(spelled(CoachingKind::CoachingIndividueel), "coaching-individueel");
        assert_eq!(spelled(CoachingKind::CoachingTeam), "coaching-team");
        assert_eq!(spelled(CoachingKind::Beleid), "beleid");
        assert!(CoachingKind::COACHING.iter().all(|k| k.is_coaching()));
        assert!(!CoachingKind::Beleid.is_coaching());
    }

    /// The texts the store held before these columns were enums: a changed spelling would
    /// need a migration of the rows.
    #[test]
    fn fixed_sets_are_stored_as_before() {
        fn stored<T: ActiveEnum<Value = String> + Iterable + fmt::Display>() -> Vec<String> {
            let texts: Vec<String> = T::iter().map(|v| v.to_value()).collect();
            assert_eq!(texts, T::iter().map(|v| v.to_string()).collect::<Vec<_>>(), "printed as stored");
            texts
        }
        assert_eq!(stored::<CycleStatus>(), ["open", "closed"]);
        assert_eq!(
            stored::<CycleEventKind>(),
            ["started", "fields_updated", "advanced", "iterated", "closed", "reopened", "pitch_added"]
        );
        assert_eq!(stored::<OccurrenceStatus>(), ["pending", "fired", "missed", "skipped", "failed"]);
        assert_eq!(stored::<ScanTechnique>(), ["kind", "groep"]);
        assert_eq!(stored::<ScheduleScopeKind>(), ["bestuur", "kindcentrum", "locatie", "groep", "team"]);
        assert!(CycleStatus::iter().all(|s| s.as_str() == s.to_value()));
        assert!(ScanTechnique::iter().all(|t| t.as_str() == t.to_value()));
        assert!(ScheduleScopeKind::iter().all(|k| k.as_str() == k.to_value()));
    }

    #[test]
    fn schedule_scopes_read_and_print() {
        let scope: ScheduleScope = "kindcentrum:12".parse().expect("scope");
        assert_eq!(scope, ScheduleScope::Kindcentrum(12));
        assert_eq!(scope.to_string(), "kindcentrum:12");
        assert!("gemeente:1".parse::<ScheduleScope>().is_err());
        for kind in ScheduleScopeKind::iter() {
            assert_eq!(ScheduleScope::new(kind, 3).kind(), kind);
        }
    }

    #[test]
    fn direction_meets() {
        assert!(Direction::AtLeast.meets(80.0, 80.0));
        assert!(!Direction::AtLeast.meets(79.9, 80.0));
        assert!(Direction::AtMost.meets(4.0, 5.0));
        assert!(!Direction::AtMost.meets(5.1, 5.0));
    }
}

/// The roles whose hours count toward the wet IKK norm: the pedagogisch beleidsmedewerker /
/// coach of Besluit kwaliteit kinderopvang art. 4 (the seeds' locatiejaarplan names one person
/// for both).
pub(crate) const COACH_ROLES: [Role; 2] = [Role::PedagogischCoach, Role::PedagogischBeleidsmedewerker];

/// The unit of the organisation a schedule is attached to: its occurrences act on this
/// bestuur, kindcentrum, locatie, groep or team. Not to be confused with
/// `access::token::AccessScope`, the part of the data an API token reaches, nor with
/// `cycle::Owner`, the team, professional, groep or kindcentrum that runs a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum ScheduleScope {
    Bestuur(i64),
    Kindcentrum(i64),
    Locatie(i64),
    Groep(i64),
    Team(i64),
}

impl ScheduleScope {
    pub fn kind(self) -> ScheduleScopeKind {
        match self {
            ScheduleScope::Bestuur(_) => ScheduleScopeKind::Bestuur,
            ScheduleScope::Kindcentrum(_) => ScheduleScopeKind::Kindcentrum,
            ScheduleScope::Locatie(_) => ScheduleScopeKind::Locatie,
            ScheduleScope::Groep(_) => ScheduleScopeKind::Groep,
            ScheduleScope::Team(_) => ScheduleScopeKind::Team,
        }
    }

    pub fn id(self) -> i64 {
        match self {
            ScheduleScope::Bestuur(id)
            | ScheduleScope::Kindcentrum(id)
            | ScheduleScope::Locatie(id)
            | ScheduleScope::Groep(id)
            | ScheduleScope::Team(id) => id,
        }
    }

    /// The scope of a kind and an id, as the `schedule` table stores it.
    pub fn new(kind: ScheduleScopeKind, id: i64) -> ScheduleScope {
        match kind {
            ScheduleScopeKind::Bestuur => ScheduleScope::Bestuur(id),
            ScheduleScopeKind::Kindcentrum => ScheduleScope::Kindcentrum(id),
            ScheduleScopeKind::Locatie => ScheduleScope::Locatie(id),
            ScheduleScopeKind::Groep => ScheduleScope::Groep(id),
            ScheduleScopeKind::Team => ScheduleScope::Team(id),
        }
    }
}

impl FromStr for ScheduleScopeKind {
    type Err = Error;

    /// `kindcentrum`.
    fn from_str(kind: &str) -> Result<ScheduleScopeKind> {
        ScheduleScopeKind::try_from_value(&kind.to_owned()).map_err(|_| {
            Error::Validation(format!("`{kind}` is not a scope: use bestuur, kindcentrum, locatie, groep or team"))
        })
    }
}

impl fmt::Display for ScheduleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

impl FromStr for ScheduleScope {
    type Err = Error;

    /// `kindcentrum:12`.
    fn from_str(text: &str) -> Result<ScheduleScope> {
        let (kind, id) = text
            .split_once(':')
            .ok_or_else(|| Error::Validation(format!("`{text}` is not a scope: write it as `kindcentrum:12`")))?;
        let id = id.parse().map_err(|_| Error::Validation(format!("`{id}` in `{text}` is not an id")))?;
        Ok(ScheduleScope::new(kind.parse()?, id))
    }
}

/// What a caller may do (see the role table in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum AccessRole {
    /// Everything.
    Admin,
    /// Reads everything of the kindcentra of its bestuur; sets signals.
    Bestuur,
    /// Reads and writes within one kindcentrum.
    Directeur,
    /// Coaching hours and scans of the locaties assigned; reads their cycles.
    Coach,
    /// The cycles of the teams of a professional, or of one team.
    TeamMember,
    /// Reads within its scope.
    Reader,
}

impl AccessRole {
    pub const ALL: [AccessRole; 6] = [
        AccessRole::Admin,
        AccessRole::Bestuur,
        AccessRole::Directeur,
        AccessRole::Coach,
        AccessRole::TeamMember,
        AccessRole::Reader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Admin => "admin",
            AccessRole::Bestuur => "bestuur",
            AccessRole::Directeur => "directeur",
            AccessRole::Coach => "coach",
            AccessRole::TeamMember => "team-member",
            AccessRole::Reader => "reader",
        }
    }
}

impl fmt::Display for AccessRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a role: {}", AccessRole::ALL.map(AccessRole::as_str).join(", ")))
    }
}
