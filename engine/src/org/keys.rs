//! Records named the way people name them: by id, or by the key the import files give them.
//! The command line takes both (`--kindcentrum 2` or `--kindcentrum heidevlinder`, a scope
//! `locatie:3` or `locatie:heidevlinder/heidevlinder`).
//!
//! Besturen, kindcentra and professionals have keys of their own. A locatie's or a team's
//! key is unique within its kindcentrum and a groep's within its locatie, so they are
//! written as a path (`kindcentrum/locatie`, `kindcentrum/locatie/groep`,
//! `kindcentrum/team`); the key alone is enough while only one record has it.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Engine;
use crate::error::{Error, Result};
use crate::store::entity::{bestuur, groep, kindcentrum, locatie, professional, team};

/// The kinds of record a reference can name.
const KINDS: &str = "bestuur, kindcentrum, locatie, groep, team or professional";

impl Engine {
    /// The id of the record of `kind` that `reference` names: its id, or its key (a path of
    /// keys for locaties, groepen and teams). NotFound when none has it; a validation error
    /// listing the paths when a bare key names several.
    pub async fn resolve(&self, kind: &str, reference: &str) -> Result<i64> {
        let reference = reference.trim();
        if let Ok(id) = reference.parse::<i64>() {
            return Ok(id);
        }
        let path: Vec<&str> = reference.split('/').collect();
        let (key, parents) = path.split_last().ok_or_else(|| Error::Validation("an empty reference".into()))?;
        // Each candidate with its path of keys, from the kindcentrum down.
        let candidates: Vec<(i64, Vec<String>)> = match kind {
            "bestuur" | "kindcentrum" | "professional" if !parents.is_empty() => {
                return Err(Error::Validation(format!(
                    "`{reference}`: a {kind} is named by its id or its key alone, without a path"
                )));
            }
            "bestuur" => bestuur::Entity::find()
                .filter(bestuur::Column::Key.eq(*key))
                .all(self.db())
                .await?
                .into_iter()
                .map(|b| (b.id, vec![b.key]))
                .collect(),
            "kindcentrum" => self.kindcentrum_by_key(key).await?.into_iter().map(|k| (k.id, vec![k.key])).collect(),
            "professional" => professional::Entity::find()
                .filter(professional::Column::Key.eq(*key))
                .all(self.db())
                .await?
                .into_iter()
                .map(|p| (p.id, vec![p.key]))
                .collect(),
            "locatie" => {
                let rows = locatie::Entity::find().filter(locatie::Column::Key.eq(*key)).all(self.db()).await?;
                let kindcentra = self.kindcentrum_keys(rows.iter().map(|l| l.kindcentrum_id)).await?;
                rows.into_iter()
                    .map(|l| (l.id, vec![kindcentra.get(&l.kindcentrum_id).cloned().unwrap_or_default(), l.key]))
                    .collect()
            }
            "team" => {
                let rows = team::Entity::find().filter(team::Column::Key.eq(*key)).all(self.db()).await?;
                let kindcentra = self.kindcentrum_keys(rows.iter().map(|t| t.kindcentrum_id)).await?;
                rows.into_iter()
                    .map(|t| (t.id, vec![kindcentra.get(&t.kindcentrum_id).cloned().unwrap_or_default(), t.key]))
                    .collect()
            }
            "groep" => {
                let rows = groep::Entity::find().filter(groep::Column::Key.eq(*key)).all(self.db()).await?;
                let locaties = locatie::Entity::find()
                    .filter(locatie::Column::Id.is_in(rows.iter().map(|g| g.locatie_id)))
                    .all(self.db())
                    .await?;
                let kindcentra = self.kindcentrum_keys(locaties.iter().map(|l| l.kindcentrum_id)).await?;
                let locaties: HashMap<i64, Vec<String>> = locaties
                    .into_iter()
                    .map(|l| (l.id, vec![kindcentra.get(&l.kindcentrum_id).cloned().unwrap_or_default(), l.key]))
                    .collect();
                rows.into_iter()
                    .map(|g| {
                        let mut path = locaties.get(&g.locatie_id).cloned().unwrap_or_default();
                        path.push(g.key);
                        (g.id, path)
                    })
                    .collect()
            }
            other => return Err(Error::Validation(format!("`{other}` is not a kind of record: {KINDS}"))),
        };
        // The path given must end the candidate's path.
        let matching: Vec<&(i64, Vec<String>)> = candidates
            .iter()
            .filter(|(_, full)| full.ends_with(&path.iter().map(|p| p.to_string()).collect::<Vec<_>>()))
            .collect();
        match matching.as_slice() {
            [(id, _)] => Ok(*id),
            [] => Err(Error::NotFound { what: kind_name(kind), id: reference.to_owned() }),
            several => Err(Error::Validation(format!(
                "{kind} key `{reference}` names {} records: write one of {}",
                several.len(),
                several.iter().map(|(_, full)| format!("`{}`", full.join("/"))).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// A scope written `kind:reference` (or a kind alone, such as `all`), with the
    /// reference resolved to an id: `kind:id`.
    pub async fn resolve_scope(&self, scope: &str) -> Result<String> {
        match scope.split_once(':') {
            None => Ok(scope.to_owned()),
            Some((kind, reference)) => Ok(format!("{kind}:{}", self.resolve(kind, reference).await?)),
        }
    }

    async fn kindcentrum_keys(&self, ids: impl Iterator<Item = i64>) -> Result<HashMap<i64, String>> {
        Ok(kindcentrum::Entity::find()
            .filter(kindcentrum::Column::Id.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|k| (k.id, k.key))
            .collect())
    }
}

/// The name of a kind in a NotFound error.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "bestuur" => "bestuur",
        "kindcentrum" => "kindcentrum",
        "locatie" => "locatie",
        "groep" => "groep",
        "team" => "team",
        _ => "professional",
    }
}
