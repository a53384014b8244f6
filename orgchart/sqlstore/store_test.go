package sqlstore_test

import (
	"testing"

	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

var mig = sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()}

// Each case of the suite gets a fresh database, so cases never see each
// other's rows.
func TestStoreContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		orgcharttest.StoreSuite(t, func(t *testing.T) orgchart.Store { return sqlstore.New(sqldbtest.OpenSQLite(t, mig)) })
	})
	t.Run("postgres", func(t *testing.T) {
		sqldbtest.PostgresDSN(t) // skips (or fails when services are required) without a server
		orgcharttest.StoreSuite(t, func(t *testing.T) orgchart.Store { return sqlstore.New(sqldbtest.OpenPostgres(t, mig)) })
	})
}
