package store

// schemaV3 links a debate's conclusion to the ideas adopted from it.
var schemaV3 = []string{
	`CREATE TABLE debate_outcomes (
		debate_id @REF NOT NULL,
		idea_id @REF NOT NULL,
		PRIMARY KEY (debate_id, idea_id),
		FOREIGN KEY (debate_id) REFERENCES debates (id) ON DELETE CASCADE,
		FOREIGN KEY (idea_id) REFERENCES ideas (id) ON DELETE CASCADE
	)@TABLE`,
}
