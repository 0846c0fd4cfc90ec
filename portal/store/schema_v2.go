package store

// schemaV2 adds what moderation, search administration and theme modelling
// keep: reason codes on submissions for queue filters, reversible merges,
// residents' reports, a holiday calendar for working-day deadlines, the
// editable word list and user dictionary, trained theme models and clusters.
var schemaV2 = []string{
	`ALTER TABLE ideas ADD COLUMN reason_codes VARCHAR(255) NOT NULL DEFAULT ''`,
	`ALTER TABLE comments ADD COLUMN reason_codes VARCHAR(255) NOT NULL DEFAULT ''`,
	`ALTER TABLE debate_posts ADD COLUMN reason_codes VARCHAR(255) NOT NULL DEFAULT ''`,
	`CREATE INDEX ix_ideas_queue ON ideas (status, risk_score, created_at)`,

	`CREATE TABLE merges (
		id @ID,
		source_idea_id @REF NOT NULL,
		target_idea_id @REF NOT NULL,
		source_status VARCHAR(20) NOT NULL,
		reason @TEXT NOT NULL,
		merged_by @REF NULL,
		merged_at @TIME NOT NULL,
		undone_by @REF NULL,
		undone_at @TIME NULL,
		FOREIGN KEY (source_idea_id) REFERENCES ideas (id) ON DELETE CASCADE,
		FOREIGN KEY (target_idea_id) REFERENCES ideas (id) ON DELETE CASCADE,
		FOREIGN KEY (merged_by) REFERENCES users (id),
		FOREIGN KEY (undone_by) REFERENCES users (id)
	)@TABLE`,
	`CREATE INDEX ix_merges_source ON merges (source_idea_id, undone_at)`,
	`CREATE INDEX ix_merges_target ON merges (target_idea_id)`,

	`CREATE TABLE reports (
		id @ID,
		target_type VARCHAR(16) NOT NULL,
		target_id @REF NOT NULL,
		reporter_id @REF NULL,
		reporter_key VARCHAR(64) NOT NULL,
		reason @TEXT NOT NULL,
		created_at @TIME NOT NULL,
		resolved_at @TIME NULL,
		resolved_by @REF NULL,
		FOREIGN KEY (reporter_id) REFERENCES users (id) ON DELETE SET NULL,
		FOREIGN KEY (resolved_by) REFERENCES users (id)
	)@TABLE`,
	`CREATE UNIQUE INDEX ux_reports_once ON reports (target_type, target_id, reporter_key)`,
	`CREATE INDEX ix_reports_open ON reports (resolved_at, target_type, target_id)`,

	`CREATE TABLE holidays (
		day VARCHAR(10) NOT NULL PRIMARY KEY,
		name VARCHAR(60) NOT NULL DEFAULT '',
		workday BOOLEAN NOT NULL DEFAULT FALSE
	)@TABLE`,

	`CREATE TABLE sensitive_words (
		id @ID,
		word VARCHAR(100) NOT NULL,
		category VARCHAR(32) NOT NULL,
		action VARCHAR(8) NOT NULL,
		created_by @REF NULL,
		created_at @TIME NOT NULL,
		FOREIGN KEY (created_by) REFERENCES users (id)
	)@TABLE`,
	`CREATE UNIQUE INDEX ux_sensitive_words ON sensitive_words (word)`,

	`CREATE TABLE dictionary_terms (
		id @ID,
		term VARCHAR(60) NOT NULL,
		created_by @REF NULL,
		created_at @TIME NOT NULL,
		FOREIGN KEY (created_by) REFERENCES users (id)
	)@TABLE`,
	`CREATE UNIQUE INDEX ux_dictionary_terms ON dictionary_terms (term)`,

	`CREATE TABLE theme_models (
		id @ID,
		campaign_id @REF NOT NULL,
		version INTEGER NOT NULL,
		model @BLOB NOT NULL,
		metrics @TEXT NOT NULL,
		labels INTEGER NOT NULL DEFAULT 0,
		created_at @TIME NOT NULL,
		FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE
	)@TABLE`,
	`CREATE INDEX ix_theme_models_campaign ON theme_models (campaign_id, id)`,

	`CREATE TABLE clusters (
		id @ID,
		campaign_id @REF NOT NULL,
		theme_id @REF NULL,
		label VARCHAR(120) NOT NULL DEFAULT '',
		renamed BOOLEAN NOT NULL DEFAULT FALSE,
		keywords @TEXT NOT NULL,
		size INTEGER NOT NULL DEFAULT 0,
		supports INTEGER NOT NULL DEFAULT 0,
		first_at @TIME NULL,
		last_at @TIME NULL,
		representative_id @REF NULL,
		score DOUBLE NOT NULL DEFAULT 0,
		created_at @TIME NOT NULL,
		updated_at @TIME NOT NULL,
		FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE,
		FOREIGN KEY (theme_id) REFERENCES themes (id) ON DELETE SET NULL,
		FOREIGN KEY (representative_id) REFERENCES ideas (id) ON DELETE SET NULL
	)@TABLE`,
	`CREATE INDEX ix_clusters_campaign ON clusters (campaign_id, score)`,
	`CREATE TABLE cluster_members (
		idea_id @REF NOT NULL PRIMARY KEY,
		cluster_id @REF NOT NULL,
		pinned BOOLEAN NOT NULL DEFAULT FALSE,
		FOREIGN KEY (idea_id) REFERENCES ideas (id) ON DELETE CASCADE,
		FOREIGN KEY (cluster_id) REFERENCES clusters (id) ON DELETE CASCADE
	)@TABLE`,
	`CREATE INDEX ix_cluster_members_cluster ON cluster_members (cluster_id)`,
}
