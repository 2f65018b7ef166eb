//! Changing the organisation through the API: professionals hired, changed and ended.
//! Each change is checked as the importer checks it and recorded in the trail with the
//! roles, kindcentra and FTE history that belong to the professional.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde::Serialize;

use crate::Engine;
use crate::access::Change;
use crate::audit::Changed;
use crate::domain::{Role, check_fte, fresh_key, slug};
use crate::error::{Error, Result};
use crate::store::entity::*;

/// A professional to hire.
#[derive(Clone, Debug)]
pub struct NewProfessional {
    pub name: String,
    pub roles: Vec<Role>,
    pub employer_bestuur_id: i64,
    /// Where they work: at least one kindcentrum.
    pub kindcentra: Vec<i64>,
    /// Their FTE from the day they start.
    pub fte: f64,
    pub starts_on: NaiveDate,
    /// Deployed flexibly (on call); coached every year all the same.
    pub flexible: bool,
}

/// What an edit of a professional changes; what is left `None` stays.
#[derive(Clone, Debug, Default)]
pub struct ProfessionalEdit {
    pub name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub flexible: Option<bool>,
    /// A new FTE from a date on; the history before it stays.
    pub fte: Option<(NaiveDate, f64)>,
    /// The last day they work for their employer; `Some(None)` when they came back.
    pub left_on: Option<Option<NaiveDate>>,
}

/// A professional as the trail records them: the row with their roles, kindcentra and FTE.
#[derive(Serialize, PartialEq)]
struct Recorded {
    #[serde(flatten)]
    row: professional::Model,
    roles: BTreeSet<Role>,
    kindcentra: BTreeSet<i64>,
    fte: Vec<(NaiveDate, f64)>,
}

async fn recorded(txn: &DatabaseTransaction, row: professional::Model) -> Result<Recorded> {
    let id = row.id;
    let roles =
        professional_role::Entity::find().filter(professional_role::Column::ProfessionalId.eq(id)).all(txn).await?;
    let kindcentra = professional_kindcentrum::Entity::find()
        .filter(professional_kindcentrum::Column::ProfessionalId.eq(id))
        .all(txn)
        .await?;
    let fte = professional_fte::Entity::find()
        .filter(professional_fte::Column::ProfessionalId.eq(id))
        .order_by_asc(professional_fte::Column::ValidFrom)
        .all(txn)
        .await?;
    Ok(Recorded {
        row,
        roles: roles.into_iter().map(|r| r.role).collect(),
        kindcentra: kindcentra.into_iter().map(|k| k.kindcentrum_id).collect(),
        fte: fte.into_iter().map(|f| (f.valid_from, f.fte)).collect(),
    })
}

fn name(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Validation("`name` is empty: write the professional's name".to_owned()));
    }
    Ok(text.to_owned())
}

fn roles(roles: &[Role]) -> Result<BTreeSet<Role>> {
    if roles.is_empty() {
        return Err(Error::Validation(
            "`roles` is empty: give at least one role (leerkracht, pedagogisch medewerker, ...)".to_owned(),
        ));
    }
    Ok(roles.iter().copied().collect())
}

fn fte(value: f64) -> Result<f64> {
    check_fte(value).map_err(|e| Error::Validation(format!("`fte`: {e}")))
}

impl Engine {
    /// Hires a professional at the kindcentra given, from `starts_on` with their FTE.
    #[tracing::instrument(skip(self, input), fields(employer = input.employer_bestuur_id))]
    pub async fn add_professional(&self, input: NewProfessional) -> Result<professional::Model> {
        let name = name(&input.name)?;
        let roles = roles(&input.roles)?;
        let fte = fte(input.fte)?;
        let kindcentra: BTreeSet<i64> = input.kindcentra.iter().copied().collect();
        if kindcentra.is_empty() {
            return Err(Error::Validation("`kindcentrumIds` is empty: give the kindcentra they work at".to_owned()));
        }
        let access = self.access_of();
        if let Some(out) = kindcentra.iter().find(|&&kc| !access.reaches_kindcentrum(kc)) {
            return Err(Error::NotFound { what: "kindcentrum", id: out.to_string() });
        }
        if !access.sees_bestuur(input.employer_bestuur_id) {
            return Err(Error::NotFound { what: "bestuur", id: input.employer_bestuur_id.to_string() });
        }
        access.may(Change::Organisation)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let found = kindcentrum::Entity::find()
            .filter(kindcentrum::Column::Id.is_in(kindcentra.iter().copied()))
            .all(&txn)
            .await?;
        if let Some(missing) = kindcentra.iter().find(|&&kc| !found.iter().any(|k| k.id == kc)) {
            return Err(Error::NotFound { what: "kindcentrum", id: missing.to_string() });
        }
        let employer = bestuur::Entity::find_by_id(input.employer_bestuur_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "bestuur", id: input.employer_bestuur_id.to_string() })?;
        let base = slug(&name, "professional");
        let taken: BTreeSet<String> = professional::Entity::find()
            .filter(professional::Column::Key.starts_with(&base))
            .all(&txn)
            .await?
            .into_iter()
            .map(|p| p.key)
            .collect();
        let row = professional::ActiveModel {
            key: Set(fresh_key(&base, |k| taken.contains(k))),
            name: Set(name),
            employer_bestuur_id: Set(employer.id),
            flexible: Set(input.flexible),
            left_on: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        professional_role::Entity::insert_many(
            roles.iter().map(|&role| professional_role::ActiveModel { professional_id: Set(row.id), role: Set(role) }),
        )
        .exec(&txn)
        .await?;
        professional_kindcentrum::Entity::insert_many(kindcentra.iter().map(|&kc| {
            professional_kindcentrum::ActiveModel { professional_id: Set(row.id), kindcentrum_id: Set(kc) }
        }))
        .exec(&txn)
        .await?;
        professional_fte::ActiveModel { professional_id: Set(row.id), valid_from: Set(input.starts_on), fte: Set(fte) }
            .insert(&txn)
            .await?;
        let after = recorded(&txn, row.clone()).await?;
        let first = kindcentra.first().copied();
        let change = Changed::of("professional", row.id, None, Some(&after)).within(first, Some(employer.id));
        self.record_changes(&txn, vec![change]).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Changes a professional read at `expected_version`: name, roles, flexible, a new FTE
    /// from a date, or the day they leave. Someone who leaves is ended, not deleted.
    #[tracing::instrument(skip(self, edit), fields(professional = id))]
    pub async fn update_professional(
        &self,
        id: i64,
        expected_version: i32,
        edit: ProfessionalEdit,
    ) -> Result<professional::Model> {
        let new_name = edit.name.as_deref().map(name).transpose()?;
        let new_roles = edit.roles.as_deref().map(roles).transpose()?;
        let new_fte = edit.fte.map(|(from, value)| fte(value).map(|v| (from, v))).transpose()?;
        let txn = crate::store::begin_write(self.db()).await?;
        let row = professional::Entity::find_by_id(id).one(&txn).await?;
        let row = self.access_of().found(row, "professional", id)?;
        let before = recorded(&txn, row).await?;
        // The professional's own kindcentra, or their employer, must be reached whole.
        let access = self.access_of();
        if !before.kindcentra.iter().any(|&kc| access.reaches_kindcentrum(kc))
            && !access.reaches_bestuur(before.row.employer_bestuur_id)
        {
            return Err(Error::NotFound { what: "professional", id: id.to_string() });
        }
        access.may(Change::Organisation)?;
        self.expect_version(&txn, "professional", id, Some(expected_version)).await?;
        let mut after = before.row.clone();
        if let Some(name) = new_name {
            after.name = name;
        }
        if let Some(flexible) = edit.flexible {
            after.flexible = flexible;
        }
        if let Some(left_on) = edit.left_on {
            if let (Some(day), Some((first, _))) = (left_on, before.fte.first())
                && day < *first
            {
                return Err(Error::Validation(format!(
                    "`leftOn` {day} lies before their first fte (from {first}): give the last day they worked"
                )));
            }
            after.left_on = left_on;
        }
        if after != before.row {
            after.clone().into_active_model().reset_all().update(&txn).await?;
        }
        if let Some(roles) = new_roles {
            professional_role::Entity::delete_many()
                .filter(professional_role::Column::ProfessionalId.eq(id))
                .exec(&txn)
                .await?;
            professional_role::Entity::insert_many(
                roles.iter().map(|&role| professional_role::ActiveModel { professional_id: Set(id), role: Set(role) }),
            )
            .exec(&txn)
            .await?;
        }
        if let Some((from, value)) = new_fte {
            professional_fte::Entity::delete_many()
                .filter(professional_fte::Column::ProfessionalId.eq(id))
                .filter(professional_fte::Column::ValidFrom.eq(from))
                .exec(&txn)
                .await?;
            professional_fte::ActiveModel { professional_id: Set(id), valid_from: Set(from), fte: Set(value) }
                .insert(&txn)
                .await?;
        }
        let recorded_after = recorded(&txn, after.clone()).await?;
        if recorded_after == before {
            return Ok(before.row);
        }
        let kindcentrum = before.kindcentra.iter().copied().find(|&kc| access.reaches_kindcentrum(kc));
        self.record_changes(
            &txn,
            vec![
                Changed::of("professional", id, Some(&before), Some(&recorded_after))
                    .within(kindcentrum, Some(after.employer_bestuur_id)),
            ],
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }
}
