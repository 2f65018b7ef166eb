//! Retention of child-level scan scores (AVG): after the retention period the scores of
//! the children in a scan are folded into the distribution of the scan's scores per scale
//! and deleted. The scan keeps its mean, distribution, bands and change; only which child
//! scored what is gone.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::error::{Error, Result};
use crate::evidence::scan::Technique;
use crate::store::entity::{scan, scan_score};

/// How many scans one transaction folds.
const BATCH: u64 = 500;

/// The scores of a folded scan: per scale, each point of the scale with its count.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Distribution {
    welbevinden: BTreeMap<String, u32>,
    betrokkenheid: BTreeMap<String, u32>,
}

fn key(value: f64) -> String {
    format!("{value:.1}")
}

/// Score rows without child codes that stand for a folded scan's distribution: one per
/// score, paired per scale in order (each scale is summarised on its own).
pub(crate) fn folded_scores(scan: &scan::Model) -> Result<Option<Vec<scan_score::Model>>> {
    let Some(text) = &scan.distribution else { return Ok(None) };
    let distribution: Distribution = serde_json::from_str(text).map_err(Error::stored_json)?;
    let expand = |counts: &BTreeMap<String, u32>| -> Result<Vec<f64>> {
        let mut values = Vec::new();
        for (point, count) in counts {
            let value: f64 = point.parse().map_err(|_| Error::stored_json(serde::de::Error::custom(point)))?;
            values.extend(std::iter::repeat_n(value, *count as usize));
        }
        Ok(values)
    };
    let (welbevinden, betrokkenheid) = (expand(&distribution.welbevinden)?, expand(&distribution.betrokkenheid)?);
    Ok(Some(
        welbevinden
            .into_iter()
            .zip(betrokkenheid)
            .map(|(welbevinden, betrokkenheid)| scan_score::Model {
                id: 0,
                scan_id: scan.id,
                child_code: None,
                welbevinden,
                betrokkenheid,
            })
            .collect(),
    ))
}

impl Engine {
    /// Folds the child-level scores of every scan taken more than `retention_days` days
    /// before today into its distribution and deletes them. Answers how many scans were
    /// folded. Each batch is one transaction: a scan is folded whole or not at all.
    #[tracing::instrument(skip(self))]
    pub async fn fold_child_scores(&self, retention_days: u32) -> Result<usize> {
        let before = self.clock().today() - TimeDelta::days(retention_days.into());
        let mut folded = 0;
        loop {
            let txn = crate::store::begin_write(self.db()).await?;
            let scans = scan::Entity::find()
                .filter(scan::Column::Technique.eq(Technique::Kind))
                .filter(scan::Column::FoldedAt.is_null())
                .filter(scan::Column::ScannedOn.lt(before))
                .order_by_asc(scan::Column::Id)
                .limit(BATCH)
                .all(&txn)
                .await?;
            if scans.is_empty() {
                break;
            }
            let ids: Vec<i64> = scans.iter().map(|s| s.id).collect();
            let mut distributions: BTreeMap<i64, Distribution> = BTreeMap::new();
            for score in
                scan_score::Entity::find().filter(scan_score::Column::ScanId.is_in(ids.clone())).all(&txn).await?
            {
                let d = distributions.entry(score.scan_id).or_default();
                *d.welbevinden.entry(key(score.welbevinden)).or_default() += 1;
                *d.betrokkenheid.entry(key(score.betrokkenheid)).or_default() += 1;
            }
            let now = self.clock().now();
            for id in &ids {
                let json =
                    serde_json::to_string(&distributions.remove(id).unwrap_or_default()).map_err(Error::stored_json)?;
                scan::Entity::update_many()
                    .col_expr(scan::Column::Distribution, Expr::value(json))
                    .col_expr(scan::Column::FoldedAt, Expr::value(now))
                    .filter(scan::Column::Id.eq(*id))
                    .exec(&txn)
                    .await?;
            }
            scan_score::Entity::delete_many().filter(scan_score::Column::ScanId.is_in(ids)).exec(&txn).await?;
            txn.commit().await?;
            folded += scans.len();
        }
        if folded > 0 {
            tracing::info!(folded, retention_days, "child-level scan scores folded into distributions");
        }
        Ok(folded)
    }

    /// Runs the retention job once a day, by the engine's clock, until `shutdown`: the next
    /// run is a day after the start of the one before, so a run that takes long (or a clock
    /// moved on meanwhile) does not push the next one later.
    pub async fn run_retention(&self, retention_days: u32, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let started = self.clock().now();
            if let Err(err) = self.fold_child_scores(retention_days).await {
                tracing::error!(error = %err, "retention run failed; retrying tomorrow");
            }
            let next = started.checked_add_signed(TimeDelta::days(1)).unwrap_or(started);
            tokio::select! {
                () = self.clock().sleep_until(next) => {}
                () = &mut shutdown => break,
            }
        }
    }
}
