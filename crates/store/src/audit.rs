//! The audit log of admin writes (issue 4): who did what to which provider, when.

use carematch_domain::ProviderId;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::audit_log;
use crate::{Store, StoreError};

/// Who did what to which provider, when: one row per admin write.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub actor: String,
    /// e.g. `upsertProvider`, `deleteProvider`.
    pub action: String,
    pub provider_id: Option<ProviderId>,
    pub at: DateTime<Utc>,
}

impl Store {
    pub async fn insert_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        audit_log::Entity::insert(audit_log::ActiveModel {
            id: Set(record.id),
            actor: Set(record.actor.clone()),
            action: Set(record.action.clone()),
            provider_id: Set(record.provider_id.map(ProviderId::as_uuid)),
            at: Set(record.at),
        })
        .exec_without_returning(&self.connection)
        .await?;
        Ok(())
    }

    /// The audit trail of one provider, oldest first.
    pub async fn audit_for_provider(
        &self,
        provider_id: ProviderId,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit_log::Entity::find()
            .filter(audit_log::Column::ProviderId.eq(provider_id.as_uuid()))
            .order_by_asc(audit_log::Column::At)
            .order_by_asc(audit_log::Column::Id)
            .all(&self.connection)
            .await?
            .into_iter()
            .map(|row| AuditRecord {
                id: row.id,
                actor: row.actor,
                action: row.action,
                provider_id: row.provider_id.map(ProviderId::from_uuid),
                at: row.at,
            })
            .collect())
    }
}
