//! DataLoaders: every nested list or reference is fetched for all parents of a level in
//! one engine call, so a query's statement count does not grow with its rows.

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, Loader};
use koers_engine::domain::Role;
use koers_engine::evidence::coaching::CoachingNorm;
use koers_engine::store::entity::*;
use koers_engine::store::query::{Page, Slice};
use koers_engine::{Engine, Result};

use crate::error::LoadError;

/// The loader behind every [`DataLoader`] of a request.
#[derive(Debug)]
pub struct Loaders {
    engine: Engine,
}

pub type AppLoader = DataLoader<Loaders>;

impl Loaders {
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }
}

pub fn new(engine: Engine) -> AppLoader {
    DataLoader::new(Loaders { engine }, tokio::spawn)
}

fn ids<K: Copy + Into<i64>>(keys: &[K]) -> Vec<i64> {
    keys.iter().map(|&k| k.into()).collect()
}

/// Re-keys an engine answer by the loader's key type; parents without rows get none.
fn keyed<K: Copy + Into<i64> + Eq + Hash, V: Default>(keys: &[K], mut found: HashMap<i64, V>) -> HashMap<K, V> {
    keys.iter().map(|&k| (k, found.remove(&k.into()).unwrap_or_default())).collect()
}

macro_rules! list_loader {
    ($key:ident, $value:ty, $method:ident) => {
        /// Loader key: the parent whose list is wanted.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl From<$key> for i64 {
            fn from(key: $key) -> i64 {
                key.0
            }
        }

        impl Loader<$key> for Loaders {
            type Value = Vec<$value>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                Ok(keyed(keys, self.engine.$method(&ids(keys)).await?))
            }
        }
    };
}

list_loader!(KindcentraOf, kindcentrum::Model, kindcentra_of);
list_loader!(BesturenOf, bestuur::Model, besturen_of);
list_loader!(OnderdelenOf, onderdeel::Model, onderdelen_of);
list_loader!(LocatiesOf, locatie::Model, locaties_of);
list_loader!(GroepenOf, groep::Model, groepen_of);
list_loader!(LrkRegistrationsOf, lrk_registration::Model, lrk_registrations_of);
list_loader!(TeamsOf, team::Model, teams_of);
list_loader!(MembersOf, professional::Model, members_of);
list_loader!(RolesOf, Role, roles_of);
list_loader!(FteOf, professional_fte::Model, fte_of);
list_loader!(KoersplannenOf, koersplan::Model, koersplannen_of);
list_loader!(AmbitiesOf, ambitie::Model, ambities_of);
list_loader!(DoelenOf, doel::Model, doelen_of);
list_loader!(SuccescriteriaOf, succescriterium::Model, succescriteria_of);
list_loader!(IndicatorsOf, indicator::Model, indicators_of);
list_loader!(IndicatorsOfKindcentrum, indicator::Model, indicators_of_kindcentra);
list_loader!(MarksOf, criterium_mark::Model, marks_of);
list_loader!(SignalOverridesOf, signal_override::Model, signal_overrides_of);

/// Loader key: a bestuur and the calendar year of its wet IKK norm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoachingNormOf(pub i64, pub i32);

impl Loader<CoachingNormOf> for Loaders {
    type Value = CoachingNorm;
    type Error = LoadError;

    /// One batch per year asked; a bestuur that is not kinderopvang has no norm.
    async fn load(&self, keys: &[CoachingNormOf]) -> Result<HashMap<CoachingNormOf, Self::Value>, Self::Error> {
        let mut by_year: HashMap<i32, Vec<i64>> = HashMap::new();
        for key in keys {
            by_year.entry(key.1).or_default().push(key.0);
        }
        let mut out = HashMap::new();
        for (year, besturen) in by_year {
            for (id, norm) in self.engine.coaching_norms(&besturen, year).await? {
                out.insert(CoachingNormOf(id, year), norm);
            }
        }
        Ok(out)
    }
}

macro_rules! page_loader {
    ($key:ident, $value:ty, $method:ident) => {
        /// Loader key: the parent and the page of its list that is wanted.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64, pub Page);

        impl Loader<$key> for Loaders {
            type Value = Slice<$value>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                // One statement per distinct page; nested lists usually share one.
                let mut by_page: HashMap<Page, Vec<i64>> = HashMap::new();
                for key in keys {
                    by_page.entry(key.1).or_default().push(key.0);
                }
                let mut out = HashMap::new();
                for (page, parents) in by_page {
                    let mut found = self.engine.$method(&parents, page).await?;
                    for parent in parents {
                        out.insert($key(parent, page), found.remove(&parent).unwrap_or_default());
                    }
                }
                Ok(out)
            }
        }
    };
}

list_loader!(EventsOf, cycle_event::Model, events_of);
list_loader!(PitchesOf, pitch::Model, pitches_of);
list_loader!(DoelenOfCycle, doel::Model, doelen_of_cycles);
list_loader!(CyclesOfDoel, cycle::Model, cycles_of_doelen);
list_loader!(CoacheesOf, professional::Model, coachees_of);

list_loader!(ScansOf, scan::Model, scans_of_groepen);
list_loader!(ScoresOf, scan_score::Model, scores_of);

page_loader!(ProfessionalsOf, professional::Model, professionals_of);
page_loader!(PlanningOf, planning_item::Model, planning_of);
page_loader!(MeasurementsOf, measurement::Model, measurements_of);

macro_rules! id_loader {
    ($key:ident, $module:ident, $method:ident) => {
        /// Loader key: the id of a row referred to by another.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for Loaders {
            type Value = $module::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = self.engine.$method(&ids).await?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

id_loader!(BestuurById, bestuur, besturen_by_id);
id_loader!(KindcentrumById, kindcentrum, kindcentra_by_id);
id_loader!(OnderdeelById, onderdeel, onderdelen_by_id);
id_loader!(IndicatorById, indicator, indicators_by_id);
id_loader!(LocatieById, locatie, locaties_by_id);
id_loader!(GroepById, groep, groepen_by_id);
id_loader!(TeamById, team, teams_by_id);
id_loader!(ProfessionalById, professional, professionals_by_id);
id_loader!(CycleById, cycle, cycles_by_id);
id_loader!(MeasurementById, measurement, measurements_by_id);

/// Loader key: a token that an actor of a history (`token:ID`) stands for; the value is the
/// token's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenName(pub i64);

impl Loader<TokenName> for Loaders {
    type Value = String;
    type Error = LoadError;

    async fn load(&self, keys: &[TokenName]) -> Result<HashMap<TokenName, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        Ok(self.engine.token_names(&ids).await?.into_iter().map(|(id, name)| (TokenName(id), name)).collect())
    }
}

/// Loader key: the scan whose summary per scale is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScanSummaryOf(pub i64);

impl Loader<ScanSummaryOf> for Loaders {
    type Value = koers_engine::evidence::scan::ScanSummary;
    type Error = LoadError;

    async fn load(&self, keys: &[ScanSummaryOf]) -> Result<HashMap<ScanSummaryOf, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = self.engine.scan_summaries(&ids).await?;
        Ok(found.into_iter().map(|(id, summary)| (ScanSummaryOf(id), summary)).collect())
    }
}
