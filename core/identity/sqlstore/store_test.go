package sqlstore_test

import (
	"testing"

	"github.com/roundshq/rounds/core/identity"
	"github.com/roundshq/rounds/core/identity/identitytest"
	"github.com/roundshq/rounds/core/identity/sqlstore"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var mig = []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}

func TestStoreContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		identitytest.Run(t, func(t *testing.T) identity.Store { return sqlstore.New(sqldbtest.OpenSQLite(t, mig...)) })
	})
	t.Run("postgres", func(t *testing.T) {
		identitytest.Run(t, func(t *testing.T) identity.Store { return sqlstore.New(sqldbtest.OpenPostgres(t, mig...)) })
	})
}

func TestMigrationVersion(t *testing.T) {
	sqldbtest.Each(t, mig, func(t *testing.T, db *sqldb.DB) {
		v, err := db.SchemaVersion(t.Context(), sqlstore.Area, sqlstore.Migrations())
		if err != nil || v != 1 {
			t.Fatalf("schema version = %d, %v", v, err)
		}
	})
}
