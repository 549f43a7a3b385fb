//! [`MemberStore`] on PostgreSQL.

use async_trait::async_trait;
use strongroom_protocol::{Invitation, Member, Role};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{PostgresStore, parse_role};
use strongroom_protocol::privacy::ReviewRecord;

use crate::store::members::{
    Acceptance, LAST_ADMIN, MemberStore, NewInvitationRow, ReviewRow, ids_from_json, ids_json,
    invitation_status as status, removed_email,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId, UserRecord};

fn member_from_row(r: &Row) -> StoreResult<Member> {
    Ok(Member {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        display_name: r.try_get(2)?,
        role: parse_role(r.try_get(3)?)?,
        disabled: r.try_get(4)?,
        mfa_enabled: r.try_get(5)?,
        last_sign_in_at: None,
        session_count: 0,
        joined_at: None,
    })
}

#[async_trait]
impl MemberStore for PostgresStore {
    async fn members(&self, practice: PracticeId) -> StoreResult<Vec<Member>> {
        self.client()
            .await?
            .query(
                "SELECT id, email, display_name, role, disabled, totp_secret IS NOT NULL
                 FROM users WHERE practice_id = $1 AND credentials_removed_at IS NULL
                 ORDER BY lower(email)",
                &[&practice.0],
            )
            .await?
            .iter()
            .map(member_from_row)
            .collect()
    }

    async fn update_member(
        &self,
        practice: PracticeId,
        member: UserId,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> StoreResult<Member> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Member changes of a practice go one at a time, so two demotions cannot each
        // see the other admin and leave none.
        let locked = tx
            .query_opt(
                "SELECT 1 FROM practices WHERE id = $1 FOR UPDATE",
                &[&practice.0],
            )
            .await?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND practice_id = $2
                                AND credentials_removed_at IS NULL)",
                &[&member.0, &practice.0],
            )
            .await?
            .try_get(0)?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        if let Some(role) = role {
            tx.execute(
                "UPDATE users SET role = $2 WHERE id = $1",
                &[&member.0, &role.as_str()],
            )
            .await?;
        }
        if let Some(disabled) = disabled {
            tx.execute(
                "UPDATE users SET disabled = $2 WHERE id = $1",
                &[&member.0, &disabled],
            )
            .await?;
            if disabled {
                tx.execute(
                    "UPDATE sessions SET revoked = true WHERE user_id = $1 AND NOT revoked",
                    &[&member.0],
                )
                .await?;
            }
        }
        let admins: i64 = tx
            .query_one(
                "SELECT count(*) FROM users
                 WHERE practice_id = $1 AND role = 'admin' AND NOT disabled",
                &[&practice.0],
            )
            .await?
            .try_get(0)?;
        if admins == 0 {
            return Err(StoreError::InUse(LAST_ADMIN.into()));
        }
        let row = tx
            .query_one(
                "SELECT id, email, display_name, role, disabled, totp_secret IS NOT NULL
                 FROM users WHERE id = $1",
                &[&member.0],
            )
            .await?;
        let changed = member_from_row(&row)?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn create_invitation(&self, i: NewInvitationRow) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO invitations (id, practice_id, email, role, token_hash, invited_by,
                   created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &i.id,
                    &i.practice_id.0,
                    &i.email,
                    &i.role.as_str(),
                    &i.token_hash,
                    &i.invited_by.0,
                    &i.created_at,
                    &i.expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn invitations(&self, practice: PracticeId, now: i64) -> StoreResult<Vec<Invitation>> {
        self.client()
            .await?
            .query(
                "SELECT id, email, role, invited_by, created_at, expires_at, accepted_at, revoked
                 FROM invitations WHERE practice_id = $1 ORDER BY created_at DESC, id",
                &[&practice.0],
            )
            .await?
            .iter()
            .map(|r| {
                let expires_at: i64 = r.try_get(5)?;
                Ok(Invitation {
                    id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    role: parse_role(r.try_get(2)?)?,
                    invited_by: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    expires_at,
                    status: status(r.try_get(6)?, r.try_get(7)?, expires_at, now),
                })
            })
            .collect()
    }

    async fn revoke_invitation(&self, practice: PracticeId, id: Uuid) -> StoreResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE invitations SET revoked = true
                 WHERE id = $1 AND practice_id = $2 AND NOT revoked AND accepted_at IS NULL",
                &[&id, &practice.0],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn accept_invitation(&self, a: Acceptance) -> StoreResult<UserRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT id, practice_id, email, role FROM invitations
                 WHERE token_hash = $1 AND accepted_at IS NULL AND NOT revoked AND expires_at > $2
                 FOR UPDATE",
                &[&a.token_hash, &a.now],
            )
            .await?
        else {
            return Err(StoreError::NotFound);
        };
        let invitation: Uuid = row.try_get(0)?;
        let practice: Uuid = row.try_get(1)?;
        let email: String = row.try_get(2)?;
        let role: String = row.try_get(3)?;
        let user = Uuid::new_v4();
        tx.execute(
            "INSERT INTO users (id, practice_id, email, display_name, password_hash, role)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &user,
                &practice,
                &email,
                &a.display_name,
                &a.password_hash,
                &role,
            ],
        )
        .await?;
        tx.execute(
            "UPDATE invitations SET accepted_at = $2 WHERE id = $1",
            &[&invitation, &a.now],
        )
        .await?;
        tx.commit().await?;
        Ok(UserRecord {
            id: UserId(user),
            practice_id: PracticeId(practice),
            email,
            display_name: a.display_name,
            password_hash: a.password_hash,
            disabled: false,
            role: parse_role(&role)?,
        })
    }

    async fn member_names(&self, practice: PracticeId) -> StoreResult<Vec<(Uuid, String)>> {
        self.client()
            .await?
            .query(
                "SELECT id, display_name FROM users WHERE practice_id = $1",
                &[&practice.0],
            )
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn remove_credentials(
        &self,
        practice: PracticeId,
        member: UserId,
        now: i64,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Member changes of a practice go one at a time (see `update_member`).
        let locked = tx
            .query_opt(
                "SELECT 1 FROM practices WHERE id = $1 FOR UPDATE",
                &[&practice.0],
            )
            .await?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let n = tx
            .execute(
                "UPDATE users SET password_hash = '!', totp_secret = NULL, totp_pending = NULL,
                                  disabled = true, email = $3, credentials_removed_at = $4
                 WHERE id = $1 AND practice_id = $2 AND credentials_removed_at IS NULL",
                &[&member.0, &practice.0, &removed_email(member), &now],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "UPDATE sessions SET revoked = true WHERE user_id = $1 AND NOT revoked",
            &[&member.0],
        )
        .await?;
        tx.execute(
            "DELETE FROM recovery_codes WHERE user_id = $1",
            &[&member.0],
        )
        .await?;
        let admins: i64 = tx
            .query_one(
                "SELECT count(*) FROM users
                 WHERE practice_id = $1 AND role = 'admin' AND NOT disabled",
                &[&practice.0],
            )
            .await?
            .try_get(0)?;
        if admins == 0 {
            return Err(StoreError::InUse(LAST_ADMIN.into()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_access_review(
        &self,
        practice: PracticeId,
        review: &ReviewRow,
    ) -> StoreResult<()> {
        let dormant_days = i32::try_from(review.dormant_days).unwrap_or(i32::MAX);
        self.client()
            .await?
            .execute(
                "INSERT INTO access_reviews
                   (id, practice_id, completed_at, by_user, dormant_days, disabled,
                    invitations_revoked)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &review.id,
                    &practice.0,
                    &review.completed_at,
                    &review.by.0,
                    &dormant_days,
                    &ids_json(&review.disabled),
                    &ids_json(&review.invitations_revoked),
                ],
            )
            .await?;
        Ok(())
    }

    async fn last_access_review(&self, practice: PracticeId) -> StoreResult<Option<ReviewRecord>> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT r.id, r.completed_at, r.by_user, u.display_name, r.dormant_days,
                        r.disabled, r.invitations_revoked
                 FROM access_reviews r JOIN users u ON u.id = r.by_user
                 WHERE r.practice_id = $1
                 ORDER BY r.completed_at DESC, r.id DESC LIMIT 1",
                &[&practice.0],
            )
            .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(ReviewRecord {
            id: r.try_get(0)?,
            completed_at: crate::sessions::rfc3339(r.try_get(1)?),
            by: r.try_get(2)?,
            by_name: r.try_get(3)?,
            dormant_days: u32::try_from(r.try_get::<_, i32>(4)?).unwrap_or(0),
            disabled: ids_from_json(&r.try_get::<_, String>(5)?),
            invitations_revoked: ids_from_json(&r.try_get::<_, String>(6)?),
        }))
    }
}
