//! [`SupportStore`] on PostgreSQL: staff, staff sessions and grants.

use async_trait::async_trait;
use strongroom_protocol::{SupportAccess, SupportStaffInfo};
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use crate::store::support::{
    AccessLogRow, GrantRow, NewGrant, StaffRecord, SupportStore, approved_from, matters_json,
    scope_from, scope_kind,
};
use crate::store::{PracticeId, StoreResult, UserId};

/// The columns [`grant_from_row`] reads, in its order, over `support_grants g` joined with
/// `support_staff s` and the deciding and revoking members `d` and `r`.
macro_rules! grant_select {
    () => {
        "SELECT g.id, g.practice_id, s.id, s.email, s.display_name, g.reason, g.ticket,
                g.scope_kind, g.matters, g.access, g.duration_hours, g.requested_at, g.decision,
                g.decided_at, d.id, d.display_name, g.expires_at, g.revoked_at, r.id,
                r.display_name
         FROM support_grants g
         JOIN support_staff s ON s.id = g.staff_id
         LEFT JOIN users d ON d.id = g.decided_by
         LEFT JOIN users r ON r.id = g.revoked_by "
    };
}

fn member_ref(id: Option<Uuid>, name: Option<String>) -> Option<(Uuid, String)> {
    id.map(|id| (id, name.unwrap_or_default()))
}

fn grant_from_row(r: &Row) -> StoreResult<GrantRow> {
    let access: String = r.try_get(9)?;
    let hours: i32 = r.try_get(10)?;
    Ok(GrantRow {
        id: r.try_get(0)?,
        practice: PracticeId(r.try_get(1)?),
        staff: SupportStaffInfo {
            id: r.try_get(2)?,
            email: r.try_get(3)?,
            display_name: r.try_get(4)?,
        },
        reason: r.try_get(5)?,
        ticket: r.try_get(6)?,
        scope: scope_from(&r.try_get::<_, String>(7)?, &r.try_get::<_, String>(8)?),
        // An unknown access grants only reading.
        access: SupportAccess::parse(&access).unwrap_or(SupportAccess::Read),
        duration_hours: u32::try_from(hours).unwrap_or(0),
        requested_at: r.try_get(11)?,
        approved: approved_from(r.try_get::<_, Option<String>>(12)?.as_deref()),
        decided_at: r.try_get(13)?,
        decided_by: member_ref(r.try_get(14)?, r.try_get(15)?),
        expires_at: r.try_get(16)?,
        revoked_at: r.try_get(17)?,
        revoked_by: member_ref(r.try_get(18)?, r.try_get(19)?),
    })
}

#[async_trait]
impl SupportStore for PostgresStore {
    async fn create_staff(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Uuid> {
        let client = self.client().await?;
        let id = Uuid::new_v4();
        client
            .execute(
                "INSERT INTO support_staff (id, email, display_name, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &email, &display_name, &password_hash, &now],
            )
            .await?;
        Ok(id)
    }

    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<StaffRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, email, display_name, password_hash, disabled FROM support_staff
                 WHERE lower(email) = lower($1)",
                &[&email],
            )
            .await?;
        row.map(|r| {
            Ok(StaffRecord {
                id: r.try_get(0)?,
                email: r.try_get(1)?,
                display_name: r.try_get(2)?,
                password_hash: r.try_get(3)?,
                disabled: r.try_get(4)?,
            })
        })
        .transpose()
    }

    async fn create_staff_session(
        &self,
        token_hash: &str,
        staff: Uuid,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO support_sessions (token_hash, staff_id, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $3, $4)",
                &[&token_hash, &staff, &now, &expires_at],
            )
            .await?;
        Ok(())
    }

    async fn staff_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SupportStaffInfo>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT s.id, s.email, s.display_name FROM support_sessions x
                 JOIN support_staff s ON s.id = x.staff_id
                 WHERE x.token_hash = $1 AND NOT x.revoked AND NOT s.disabled
                   AND x.expires_at > $2 AND x.last_seen_at > $2::bigint - $3::bigint",
                &[&token_hash, &now, &idle_secs],
            )
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        client
            .execute(
                "UPDATE support_sessions SET last_seen_at = $2
                 WHERE token_hash = $1 AND last_seen_at <> $2",
                &[&token_hash, &now],
            )
            .await?;
        Ok(Some(SupportStaffInfo {
            id: r.try_get(0)?,
            email: r.try_get(1)?,
            display_name: r.try_get(2)?,
        }))
    }

    async fn revoke_staff_session(&self, token_hash: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE support_sessions SET revoked = TRUE WHERE token_hash = $1 AND NOT revoked",
                &[&token_hash],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn create_grant(&self, g: NewGrant) -> StoreResult<()> {
        let client = self.client().await?;
        let hours = i32::try_from(g.duration_hours).unwrap_or(i32::MAX);
        client
            .execute(
                "INSERT INTO support_grants
                   (id, practice_id, staff_id, reason, ticket, scope_kind, matters, access,
                    duration_hours, requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &g.id,
                    &g.practice.0,
                    &g.staff,
                    &g.reason,
                    &g.ticket,
                    &scope_kind(&g.scope),
                    &matters_json(&g.scope),
                    &g.access.as_str(),
                    &hours,
                    &g.requested_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn practice_grants(&self, practice: PracticeId) -> StoreResult<Vec<GrantRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                grant_select!(),
                "WHERE g.practice_id = $1 ORDER BY g.requested_at DESC, g.seq DESC"
            ))
            .await?;
        client
            .query(&stmt, &[&practice.0])
            .await?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    async fn staff_grants(&self, staff: Uuid) -> StoreResult<Vec<GrantRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                grant_select!(),
                "WHERE g.staff_id = $1 ORDER BY g.requested_at DESC, g.seq DESC"
            ))
            .await?;
        client
            .query(&stmt, &[&staff])
            .await?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    async fn practice_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
    ) -> StoreResult<Option<GrantRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                grant_select!(),
                "WHERE g.practice_id = $1 AND g.id = $2"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&practice.0, &id])
            .await?
            .map(|r| grant_from_row(&r))
            .transpose()
    }

    async fn decide_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        approve: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE support_grants
                 SET decision = CASE WHEN $4 THEN 'approved' ELSE 'declined' END,
                     decided_at = $5, decided_by = $3,
                     expires_at = CASE WHEN $4 THEN $5::bigint + duration_hours * 3600 ELSE NULL END
                 WHERE practice_id = $1 AND id = $2 AND decision IS NULL",
                &[&practice.0, &id, &by.0, &approve, &now],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn revoke_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE support_grants SET revoked_at = $4, revoked_by = $3
                 WHERE practice_id = $1 AND id = $2 AND decision = 'approved'
                   AND revoked_at IS NULL AND expires_at > $4",
                &[&practice.0, &id, &by.0, &now],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn active_grants(
        &self,
        practice: PracticeId,
        staff: Uuid,
        now: i64,
    ) -> StoreResult<Vec<GrantRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                grant_select!(),
                "WHERE g.practice_id = $1 AND g.staff_id = $2 AND g.decision = 'approved'
                   AND g.revoked_at IS NULL AND g.expires_at > $3
                 ORDER BY g.requested_at DESC, g.seq DESC"
            ))
            .await?;
        client
            .query(&stmt, &[&practice.0, &staff, &now])
            .await?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    async fn support_access_log(
        &self,
        practice: PracticeId,
        kinds: &[&str],
        grant: Option<Uuid>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AccessLogRow>> {
        let client = self.client().await?;
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        let grant = grant.map(|g| g.to_string());
        let limit = i64::from(limit);
        let stmt = client
            .prepare_cached(
                "SELECT a.id, a.occurred_at, a.kind, a.details, s.id, s.email, s.display_name
                 FROM audit_log a
                 LEFT JOIN support_staff s ON a.actor = 'staff:' || s.id::text
                 WHERE a.practice_id = $1 AND a.kind = ANY($2)
                   AND ($3::text IS NULL OR a.details::jsonb ->> 'grant_id' = $3::text)
                   AND ($4::bigint IS NULL OR a.id < $4::bigint)
                 ORDER BY a.id DESC LIMIT $5",
            )
            .await?;
        client
            .query(&stmt, &[&practice.0, &kinds, &grant, &before, &limit])
            .await?
            .iter()
            .map(|r| {
                let staff = match r.try_get::<_, Option<Uuid>>(4)? {
                    Some(id) => Some(SupportStaffInfo {
                        id,
                        email: r.try_get(5)?,
                        display_name: r.try_get(6)?,
                    }),
                    None => None,
                };
                Ok(AccessLogRow {
                    id: r.try_get(0)?,
                    occurred_at: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    details: r.try_get(3)?,
                    staff,
                })
            })
            .collect()
    }
}
