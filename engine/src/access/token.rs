//! API tokens: who may call the API, as which role, within which scope.
//!
//! A token is 32 random bytes, shown once when it is created; only its SHA-256 is stored,
//! so a copy of the database gives no access. A token is refused once revoked or after its
//! last valid day.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};

use crate::Engine;
use crate::domain::AccessRole;
use crate::error::{Error, Result};
use crate::store::entity::{api_token, bestuur, kindcentrum, locatie, professional, team};

impl AccessRole {
    /// Whether a token of this role may have `scope`.
    fn admits(self, scope: AccessScope) -> bool {
        use AccessScope as S;
        match self {
            AccessRole::Admin => scope == S::All,
            AccessRole::Bestuur => matches!(scope, S::Bestuur(_)),
            AccessRole::Directeur => matches!(scope, S::Kindcentrum(_)),
            AccessRole::Coach => matches!(scope, S::Locatie(_) | S::Professional(_)),
            AccessRole::TeamMember => matches!(scope, S::Team(_) | S::Professional(_)),
            AccessRole::Reader => true,
        }
    }
}

/// The part of the data a token reaches: everything, or what lies within a bestuur,
/// kindcentrum, locatie, team or professional (see `access` for what each reaches). Not to
/// be confused with `domain::ScheduleScope`, the unit a schedule acts on, nor with
/// `cycle::Owner`, who runs a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessScope {
    All,
    Bestuur(i64),
    Kindcentrum(i64),
    Locatie(i64),
    Team(i64),
    Professional(i64),
}

impl AccessScope {
    fn kind(self) -> &'static str {
        match self {
            AccessScope::All => "all",
            AccessScope::Bestuur(_) => "bestuur",
            AccessScope::Kindcentrum(_) => "kindcentrum",
            AccessScope::Locatie(_) => "locatie",
            AccessScope::Team(_) => "team",
            AccessScope::Professional(_) => "professional",
        }
    }

    fn id(self) -> Option<i64> {
        match self {
            AccessScope::All => None,
            AccessScope::Bestuur(id)
            | AccessScope::Kindcentrum(id)
            | AccessScope::Locatie(id)
            | AccessScope::Team(id)
            | AccessScope::Professional(id) => Some(id),
        }
    }

    fn from_parts(kind: &str, id: Option<i64>) -> Option<AccessScope> {
        Some(match (kind, id) {
            ("all", None) => AccessScope::All,
            ("bestuur", Some(id)) => AccessScope::Bestuur(id),
            ("kindcentrum", Some(id)) => AccessScope::Kindcentrum(id),
            ("locatie", Some(id)) => AccessScope::Locatie(id),
            ("team", Some(id)) => AccessScope::Team(id),
            ("professional", Some(id)) => AccessScope::Professional(id),
            _ => return None,
        })
    }
}

impl fmt::Display for AccessScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id() {
            Some(id) => write!(f, "{}:{id}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

impl FromStr for AccessScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wrong =
            || format!("`{s}` is not a scope: all, bestuur:ID, kindcentrum:ID, locatie:ID, team:ID or professional:ID");
        let (kind, id) = match s.split_once(':') {
            None => (s, None),
            Some((kind, id)) => (kind, Some(id.parse::<i64>().map_err(|_| wrong())?)),
        };
        AccessScope::from_parts(kind, id).ok_or_else(wrong)
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub token_id: i64,
    /// The name given to the token, recorded beside its id with every change it makes.
    pub name: String,
    pub role: AccessRole,
    pub scope: AccessScope,
}

/// How an actor names the token it stands for: `token:ID`.
const TOKEN_ACTOR: &str = "token:";

impl Caller {
    /// How events and marks record this caller.
    pub fn actor(&self) -> String {
        format!("{TOKEN_ACTOR}{}", self.token_id)
    }

    /// Whom this caller's changes are recorded as in the trail.
    pub fn acting(&self) -> crate::domain::Actor {
        crate::domain::Actor { id: self.actor(), name: self.name.clone(), front: crate::domain::Front::Api }
    }

    /// The token an actor [`Caller::actor`] wrote stands for; none for the other actors
    /// (the scheduler, the command line).
    pub fn token_of(actor: &str) -> Option<i64> {
        actor.strip_prefix(TOKEN_ACTOR)?.parse().ok()
    }
}

/// Why a request is refused before it reaches the data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("unknown token")]
    Unknown,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token expired on {0}")]
    Expired(NaiveDate),
}

/// A new token: the row, and the token itself, which is shown once and never stored.
#[derive(Debug)]
pub struct NewToken {
    pub row: api_token::Model,
    pub token: String,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Engine {
    /// Creates a token for `role` within `scope`, valid through `expires_on` if given.
    #[tracing::instrument(skip(self))]
    pub async fn create_token(
        &self,
        name: &str,
        role: AccessRole,
        scope: AccessScope,
        expires_on: Option<NaiveDate>,
    ) -> Result<NewToken> {
        if !role.admits(scope) {
            return Err(Error::Validation(format!("a {role} token cannot have scope {scope}")));
        }
        if let Some(day) = expires_on
            && day < self.clock().today()
        {
            return Err(Error::Validation(format!("the token would expire on {day}, which has passed")));
        }
        let db = self.db();
        let exists = match scope {
            AccessScope::All => true,
            AccessScope::Bestuur(id) => bestuur::Entity::find_by_id(id).one(db).await?.is_some(),
            AccessScope::Kindcentrum(id) => kindcentrum::Entity::find_by_id(id).one(db).await?.is_some(),
            AccessScope::Locatie(id) => locatie::Entity::find_by_id(id).one(db).await?.is_some(),
            AccessScope::Team(id) => team::Entity::find_by_id(id).one(db).await?.is_some(),
            AccessScope::Professional(id) => professional::Entity::find_by_id(id).one(db).await?.is_some(),
        };
        if !exists {
            return Err(Error::NotFound { what: scope.kind(), id: scope.id().unwrap_or_default().to_string() });
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| Error::System { what: "randomness for a token", reason: e.to_string() })?;
        let token = format!("koers_{}", hex::encode(secret));
        let name = name.trim();
        let row = api_token::ActiveModel {
            name: Set(if name.is_empty() { format!("{role} {scope}") } else { name.to_owned() }),
            role: Set(role),
            scope_kind: Set(scope.kind().to_owned()),
            scope_id: Set(scope.id()),
            hash: Set(hash(&token)),
            created_at: Set(self.clock().now()),
            expires_on: Set(expires_on),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(NewToken { row, token })
    }

    /// The caller a token stands for, or why it is refused.
    ///
    /// Reads from the read pool where there is one, so that a request is authenticated
    /// while another process (an import) holds the store's write lock.
    pub async fn authenticate(&self, token: &str) -> Result<Result<Caller, AuthError>> {
        let Some(row) =
            api_token::Entity::find().filter(api_token::Column::Hash.eq(hash(token.trim()))).one(&self.reads).await?
        else {
            return Ok(Err(AuthError::Unknown));
        };
        if row.revoked_at.is_some() {
            return Ok(Err(AuthError::Revoked));
        }
        if let Some(day) = row.expires_on
            && day < self.clock().today()
        {
            return Ok(Err(AuthError::Expired(day)));
        }
        let Some(scope) = AccessScope::from_parts(&row.scope_kind, row.scope_id) else {
            return Err(Error::Database(sea_orm::DbErr::Custom(format!("stored token {} has no valid scope", row.id))));
        };
        Ok(Ok(Caller { token_id: row.id, name: row.name, role: row.role, scope }))
    }

    /// The names of tokens, by id, in one statement: who the actors of a history are. A
    /// token that is not stored has none.
    pub async fn token_names(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        use api_token::Column as C;
        let names: Vec<(i64, String)> = api_token::Entity::find()
            .select_only()
            .columns([C::Id, C::Name])
            .filter(C::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(names.into_iter().collect())
    }

    /// Every token, oldest first; the tokens themselves are not known.
    pub async fn tokens(&self) -> Result<Vec<api_token::Model>> {
        Ok(api_token::Entity::find().order_by_asc(api_token::Column::Id).all(self.db()).await?)
    }

    /// Revokes a token; revoking twice is harmless.
    pub async fn revoke_token(&self, id: i64) -> Result<api_token::Model> {
        let row = api_token::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| Error::NotFound { what: "token", id: id.to_string() })?;
        if row.revoked_at.is_some() {
            return Ok(row);
        }
        let mut active: api_token::ActiveModel = row.into();
        active.revoked_at = Set(Some(self.clock().now()));
        Ok(active.update(self.db()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_roles_read_as_written() {
        assert_eq!("bestuur:3".parse::<AccessScope>(), Ok(AccessScope::Bestuur(3)));
        assert_eq!("all".parse::<AccessScope>(), Ok(AccessScope::All));
        assert!("bestuur".parse::<AccessScope>().is_err());
        assert!("school:1".parse::<AccessScope>().expect_err("kind").contains("not a scope"));
        assert!("all:1".parse::<AccessScope>().is_err());
        assert_eq!(AccessScope::Locatie(7).to_string(), "locatie:7");
        assert_eq!("team-member".parse::<AccessRole>(), Ok(AccessRole::TeamMember));
        assert!("root".parse::<AccessRole>().expect_err("role").contains("admin, bestuur"));
        assert!(AccessRole::Admin.admits(AccessScope::All));
        assert!(!AccessRole::Admin.admits(AccessScope::Bestuur(1)));
        assert!(!AccessRole::Directeur.admits(AccessScope::Bestuur(1)));
        assert!(AccessRole::Reader.admits(AccessScope::Locatie(1)));
    }
}
