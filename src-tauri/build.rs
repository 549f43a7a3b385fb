//! Tauri's build step: embeds the config and declares the app's own commands, so that each
//! needs an explicit permission in `capabilities/` (the allow-list).

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_start",
            "app_status",
            "sign_in",
            "sign_out",
            "unlock",
            "lock",
            "sync_now",
            "list_matters",
            "matter_filters",
            "search_matters",
            "matter_detail",
            "find_contacts",
            "save_record",
            "delete_record",
            "list_conflicts",
            "resolve_conflict",
            "rejected_edits",
            "dismiss_rejected_edit",
            "timer_state",
            "timer_start",
            "timer_pause",
            "timer_resume",
            "timer_stop",
            "list_sessions",
            "revoke_session",
            "revoke_other_sessions",
            "list_members",
            "list_invitations",
            "invite_member",
            "revoke_invitation",
            "update_member",
            "access_review",
            "complete_access_review",
            "reauthenticate",
            "audit_log",
            "export_audit_log",
            "export_practice",
            "export_vault",
        ]),
    ))
    .expect("tauri build step");
}
