//! Who belongs where: the facts a token's reach is computed from, which the board and the
//! calendar read as well — the owners of cycles within kindcentra, and the besturen that
//! run opvang at a locatie.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::OnderdeelKind;
use crate::error::Result;
use crate::store::entity::{cycle, groep, locatie, lrk_registration, onderdeel, professional_kindcentrum, team};

/// The possible owners of cycles within a set of kindcentra: the kindcentra themselves,
/// their teams and groepen, and the professionals who work there; and for each owner the
/// kindcentra it belongs to.
pub(crate) struct OwnersIn {
    kindcentra: Vec<i64>,
    locaties: Vec<i64>,
    teams: HashMap<i64, i64>,
    groepen: HashMap<i64, i64>,
    professionals: HashMap<i64, Vec<i64>>,
}

/// The (`first`, `second`) pairs of the rows of one table whose `second` is one of
/// `seconds`: owners read as ids only.
async fn id_pairs<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    first: E::Column,
    second: E::Column,
    seconds: impl IntoIterator<Item = i64>,
) -> Result<Vec<(i64, i64)>> {
    Ok(E::find().select_only().column(first).column(second).filter(second.is_in(seconds)).into_tuple().all(db).await?)
}

impl OwnersIn {
    /// Reads the owners of `kindcentra` in four statements.
    pub(crate) async fn load<C: ConnectionTrait>(db: &C, kindcentra: &[i64]) -> Result<OwnersIn> {
        use {groep::Column as G, locatie::Column as L, team::Column as T};
        let teams = id_pairs::<team::Entity, _>(db, T::Id, T::KindcentrumId, kindcentra.iter().copied()).await?;
        let locaties = id_pairs::<locatie::Entity, _>(db, L::Id, L::KindcentrumId, kindcentra.iter().copied()).await?;
        let groepen = id_pairs::<groep::Entity, _>(db, G::Id, G::LocatieId, locaties.iter().map(|(id, _)| *id)).await?;
        OwnersIn::with(db, kindcentra, teams, locaties, groepen).await
    }

    /// The owners of `kindcentra` from their teams and locaties, as (id, kindcentrum), and
    /// groepen, as (id, locatie), already read; one statement for the professionals.
    pub(crate) async fn with<C: ConnectionTrait>(
        db: &C,
        kindcentra: &[i64],
        teams: impl IntoIterator<Item = (i64, i64)>,
        locaties: impl IntoIterator<Item = (i64, i64)>,
        groepen: impl IntoIterator<Item = (i64, i64)>,
    ) -> Result<OwnersIn> {
        use professional_kindcentrum::Column as P;
        let kindcentrum_of: HashMap<i64, i64> = locaties.into_iter().collect();
        let mut professionals: HashMap<i64, Vec<i64>> = HashMap::new();
        for (professional, kindcentrum) in id_pairs::<professional_kindcentrum::Entity, _>(
            db,
            P::ProfessionalId,
            P::KindcentrumId,
            kindcentra.iter().copied(),
        )
        .await?
        {
            professionals.entry(professional).or_default().push(kindcentrum);
        }
        Ok(OwnersIn {
            kindcentra: kindcentra.to_vec(),
            locaties: kindcentrum_of.keys().copied().collect(),
            teams: teams.into_iter().collect(),
            groepen: groepen
                .into_iter()
                .filter_map(|(id, locatie)| Some((id, *kindcentrum_of.get(&locatie)?)))
                .collect(),
            professionals,
        })
    }

    pub(crate) fn locaties(&self) -> impl Iterator<Item = i64> + '_ {
        self.locaties.iter().copied()
    }

    pub(crate) fn teams(&self) -> impl Iterator<Item = i64> + '_ {
        self.teams.keys().copied()
    }

    pub(crate) fn groepen(&self) -> impl Iterator<Item = i64> + '_ {
        self.groepen.keys().copied()
    }

    pub(crate) fn professionals(&self) -> impl Iterator<Item = i64> + '_ {
        self.professionals.keys().copied()
    }

    /// Cycles owned by any of these owners.
    pub(crate) fn condition(&self) -> Condition {
        Condition::any()
            .add(cycle::Column::KindcentrumId.is_in(self.kindcentra.iter().copied()))
            .add(cycle::Column::TeamId.is_in(self.teams.keys().copied()))
            .add(cycle::Column::GroepId.is_in(self.groepen.keys().copied()))
            .add(cycle::Column::ProfessionalId.is_in(self.professionals.keys().copied()))
    }

    /// The kindcentra (of the set) a cycle belongs to through its owner.
    pub(crate) fn kindcentra_of(&self, row: &cycle::Model) -> Vec<i64> {
        self.kindcentra_of_owner(row.kindcentrum_id, row.team_id, row.groep_id, row.professional_id)
    }

    /// The kindcentra (of the set) an owner, as the owner columns of a cycle, belongs to.
    pub(crate) fn kindcentra_of_owner(
        &self,
        kindcentrum: Option<i64>,
        team: Option<i64>,
        groep: Option<i64>,
        professional: Option<i64>,
    ) -> Vec<i64> {
        match (kindcentrum, team, groep, professional) {
            (Some(kc), ..) => vec![kc],
            (_, Some(team), ..) => self.teams.get(&team).copied().into_iter().collect(),
            (_, _, Some(groep), _) => self.groepen.get(&groep).copied().into_iter().collect(),
            (_, _, _, Some(p)) => self.professionals.get(&p).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// The besturen running opvang at each of `locaties`, by locatie: the owners of the
/// onderdelen of its LRK registrations, else (a locatie not registered) of its kindcentrum's
/// opvang onderdelen. Hours logged at a locatie count toward one of them (see
/// `houder_of_locatie`), and a coach of the locatie reads their norm and log (see
/// [`crate::access`]). Two statements however many locaties.
pub(crate) async fn opvang_besturen_at<C: ConnectionTrait>(
    db: &C,
    locaties: &[locatie::Model],
) -> Result<HashMap<i64, BTreeSet<i64>>> {
    let registrations = lrk_registration::Entity::find()
        .filter(lrk_registration::Column::LocatieId.is_in(locaties.iter().map(|l| l.id)))
        .all(db)
        .await?;
    let onderdelen = onderdeel::Entity::find()
        .filter(
            Condition::any().add(onderdeel::Column::Id.is_in(registrations.iter().map(|r| r.onderdeel_id))).add(
                Condition::all()
                    .add(onderdeel::Column::KindcentrumId.is_in(locaties.iter().map(|l| l.kindcentrum_id)))
                    .add(onderdeel::Column::Kind.is_in(OnderdeelKind::OPVANG)),
            ),
        )
        .all(db)
        .await?;
    let bestuur_of: HashMap<i64, i64> = onderdelen.iter().map(|o| (o.id, o.bestuur_id)).collect();
    Ok(locaties
        .iter()
        .map(|l| {
            let registered: BTreeSet<i64> = registrations
                .iter()
                .filter(|r| r.locatie_id == l.id)
                .filter_map(|r| bestuur_of.get(&r.onderdeel_id).copied())
                .collect();
            let besturen = if registered.is_empty() {
                onderdelen
                    .iter()
                    .filter(|o| o.kindcentrum_id == l.kindcentrum_id && o.kind.is_opvang())
                    .map(|o| o.bestuur_id)
                    .collect()
            } else {
                registered
            };
            (l.id, besturen)
        })
        .collect())
}
