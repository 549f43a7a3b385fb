//! [`MemberStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::{Invitation, Member, Role};
use uuid::Uuid;

use super::{SqliteStore, now_rfc3339, parse_role, parse_uuid};
use strongroom_protocol::privacy::ReviewRecord;

use crate::store::members::{
    Acceptance, LAST_ADMIN, MemberStore, NewInvitationRow, ReviewRow, ids_from_json, ids_json,
    invitation_status as status, removed_email,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId, UserRecord};

fn member_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        email: r.get(1)?,
        display_name: r.get(2)?,
        role: parse_role(&r.get::<_, String>(3)?)?,
        disabled: r.get(4)?,
        mfa_enabled: r.get(5)?,
        last_sign_in_at: None,
        session_count: 0,
        joined_at: None,
    })
}

fn enabled_admins(c: &Connection, practice: &str) -> StoreResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM users WHERE practice_id = ?1 AND role = 'admin' AND disabled = 0",
        [practice],
        |r| r.get(0),
    )?)
}

#[async_trait]
impl MemberStore for SqliteStore {
    async fn members(&self, practice: PracticeId) -> StoreResult<Vec<Member>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, email, display_name, role, disabled, totp_secret IS NOT NULL
                 FROM users WHERE practice_id = ?1 AND credentials_removed_at IS NULL
                 ORDER BY email",
            )?;
            Ok(stmt
                .query_map([practice.0.to_string()], member_from_row)?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn update_member(
        &self,
        practice: PracticeId,
        member: UserId,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> StoreResult<Member> {
        self.with(move |c| {
            let (p, u) = (practice.0.to_string(), member.0.to_string());
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND practice_id = ?2
                                AND credentials_removed_at IS NULL)",
                params![u, p],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            if let Some(role) = role {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![u, role.as_str()],
                )?;
            }
            if let Some(disabled) = disabled {
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE id = ?1",
                    params![u, disabled],
                )?;
                if disabled {
                    tx.execute(
                        "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND revoked = 0",
                        [&u],
                    )?;
                }
            }
            if enabled_admins(&tx, &p)? == 0 {
                return Err(StoreError::InUse(LAST_ADMIN.into()));
            }
            let changed = tx.query_row(
                "SELECT id, email, display_name, role, disabled, totp_secret IS NOT NULL
                 FROM users WHERE id = ?1",
                [&u],
                member_from_row,
            )?;
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn create_invitation(&self, i: NewInvitationRow) -> StoreResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO invitations (id, practice_id, email, role, token_hash, invited_by,
                   created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    i.id.to_string(),
                    i.practice_id.0.to_string(),
                    i.email,
                    i.role.as_str(),
                    i.token_hash,
                    i.invited_by.0.to_string(),
                    i.created_at,
                    i.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn invitations(&self, practice: PracticeId, now: i64) -> StoreResult<Vec<Invitation>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, email, role, invited_by, created_at, expires_at, accepted_at, revoked
                 FROM invitations WHERE practice_id = ?1 ORDER BY created_at DESC, id",
            )?;
            Ok(stmt
                .query_map([practice.0.to_string()], |r| {
                    let expires_at: i64 = r.get(5)?;
                    Ok(Invitation {
                        id: parse_uuid(&r.get::<_, String>(0)?)?,
                        email: r.get(1)?,
                        role: parse_role(&r.get::<_, String>(2)?)?,
                        invited_by: parse_uuid(&r.get::<_, String>(3)?)?,
                        created_at: r.get(4)?,
                        expires_at,
                        status: status(r.get(6)?, r.get(7)?, expires_at, now),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn revoke_invitation(&self, practice: PracticeId, id: Uuid) -> StoreResult<()> {
        self.with(move |c| {
            let n = c.execute(
                "UPDATE invitations SET revoked = 1
                 WHERE id = ?1 AND practice_id = ?2 AND revoked = 0 AND accepted_at IS NULL",
                params![id.to_string(), practice.0.to_string()],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn accept_invitation(&self, a: Acceptance) -> StoreResult<UserRecord> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Option<(String, String, String, String)> = tx
                .query_row(
                    "SELECT id, practice_id, email, role FROM invitations
                     WHERE token_hash = ?1 AND accepted_at IS NULL AND revoked = 0
                       AND expires_at > ?2",
                    params![a.token_hash, a.now],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((invitation, practice, email, role)) = found else {
                return Err(StoreError::NotFound);
            };
            let user = Uuid::new_v4();
            tx.execute(
                "INSERT INTO users (id, practice_id, email, display_name, password_hash, created_at, role)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![user.to_string(), practice, email, a.display_name, a.password_hash, now_rfc3339(), role],
            )?;
            tx.execute(
                "UPDATE invitations SET accepted_at = ?2 WHERE id = ?1",
                params![invitation, a.now],
            )?;
            tx.commit()?;
            Ok(UserRecord {
                id: UserId(user),
                practice_id: PracticeId(parse_uuid(&practice)?),
                email,
                display_name: a.display_name,
                password_hash: a.password_hash,
                disabled: false,
                role: parse_role(&role)?,
            })
        })
        .await
    }

    async fn member_names(&self, practice: PracticeId) -> StoreResult<Vec<(Uuid, String)>> {
        self.with(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, display_name FROM users WHERE practice_id = ?1")?;
            let rows = stmt
                .query_map([practice.0.to_string()], |r| {
                    Ok((parse_uuid(&r.get::<_, String>(0)?)?, r.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn remove_credentials(
        &self,
        practice: PracticeId,
        member: UserId,
        now: i64,
    ) -> StoreResult<()> {
        self.with(move |c| {
            let u = member.0.to_string();
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE users SET password_hash = '!', totp_secret = NULL, totp_pending = NULL,
                                  disabled = 1, email = ?3, credentials_removed_at = ?4
                 WHERE id = ?1 AND practice_id = ?2 AND credentials_removed_at IS NULL",
                params![u, practice.0.to_string(), removed_email(member), now],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND revoked = 0",
                [&u],
            )?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&u])?;
            if enabled_admins(&tx, &practice.0.to_string())? == 0 {
                return Err(StoreError::InUse(LAST_ADMIN.into()));
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn record_access_review(
        &self,
        practice: PracticeId,
        review: &ReviewRow,
    ) -> StoreResult<()> {
        let r = review.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO access_reviews
                   (id, practice_id, completed_at, by_user, dormant_days, disabled,
                    invitations_revoked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    r.id.to_string(),
                    practice.0.to_string(),
                    r.completed_at,
                    r.by.0.to_string(),
                    r.dormant_days,
                    ids_json(&r.disabled),
                    ids_json(&r.invitations_revoked)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn last_access_review(&self, practice: PracticeId) -> StoreResult<Option<ReviewRecord>> {
        self.with(move |c| {
            let row = c
                .query_row(
                    "SELECT r.id, r.completed_at, r.by_user, u.display_name, r.dormant_days,
                            r.disabled, r.invitations_revoked
                     FROM access_reviews r JOIN users u ON u.id = r.by_user
                     WHERE r.practice_id = ?1
                     ORDER BY r.completed_at DESC, r.rowid DESC LIMIT 1",
                    [practice.0.to_string()],
                    |r| {
                        Ok(ReviewRecord {
                            id: parse_uuid(&r.get::<_, String>(0)?)?,
                            completed_at: crate::sessions::rfc3339(r.get(1)?),
                            by: parse_uuid(&r.get::<_, String>(2)?)?,
                            by_name: r.get(3)?,
                            dormant_days: r.get(4)?,
                            disabled: ids_from_json(&r.get::<_, String>(5)?),
                            invitations_revoked: ids_from_json(&r.get::<_, String>(6)?),
                        })
                    },
                )
                .optional()?;
            Ok(row)
        })
        .await
    }
}
