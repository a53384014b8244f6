package sqlstore_test

import (
	"testing"

	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

func TestRetentionContract(t *testing.T) {
	mig := []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}
	t.Run("sqlite", func(t *testing.T) {
		imtest.RunRetention(t, func(t *testing.T) im.Store { return sqlstore.New(sqldbtest.OpenSQLite(t, mig...)) })
	})
	t.Run("postgres", func(t *testing.T) {
		sqldbtest.PostgresDSN(t) // skips without PostgreSQL
		imtest.RunRetention(t, func(t *testing.T) im.Store { return sqlstore.New(sqldbtest.OpenPostgres(t, mig...)) })
	})
}
