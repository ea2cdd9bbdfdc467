package stmt

import (
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Contracts lists the contracts of channel as (service, version, fields,
// first_seen, last_seen), oldest first seen first, at most
// store.MaxLimit.
func Contracts(d Dialect, channel string) string {
	return "SELECT service, version, fields, first_seen, last_seen FROM " + d.Table("contracts") + " WHERE channel = " + d.Str(channel) +
		" ORDER BY first_seen, service, version LIMIT " + Int(store.MaxLimit)
}

// ContractKey is a contract's key in ClickHouse's KeeperMap table, which
// has one key column: channel, service and version joined by NUL.
func ContractKey(c *store.Contract) string {
	return c.Channel + "\x00" + c.Service + "\x00" + c.Version
}

// Contract reads (fields, first_seen, last_seen) of the contract of c's
// channel, service and version; ClickHouse adds its rev for the
// compare-and-set that merges into it.
func Contract(d Dialect, c *store.Contract) string {
	if d.ch {
		return "SELECT fields, first_seen, last_seen, rev FROM " + d.Table("contracts") + " WHERE key = " + d.Str(ContractKey(c))
	}
	return "SELECT fields, first_seen, last_seen FROM " + d.Table("contracts") + " WHERE channel = " + d.Str(c.Channel) +
		" AND service = " + d.Str(c.Service) + " AND version = " + d.Str(c.Version)
}

// PutContract writes the merged contract of c's channel, service and
// version. DuckDB only (its transaction read the row); ClickHouse writes
// ContractValues or ContractSets by compare-and-set.
func PutContract(d Dialect, c *store.Contract, fields string, first, last int64) string {
	return "INSERT INTO " + d.Table("contracts") + " (channel, service, version, fields, first_seen, last_seen) VALUES (" +
		strings.Join([]string{d.Str(c.Channel), d.Str(c.Service), d.Str(c.Version), d.Str(fields), Int(first), Int(last)}, ", ") +
		") ON CONFLICT (channel, service, version) DO UPDATE SET fields = excluded.fields, first_seen = excluded.first_seen, last_seen = excluded.last_seen"
}

// ContractInsertColumns are the columns of a new ClickHouse contract row.
const ContractInsertColumns = "key, channel, service, version, fields, first_seen, last_seen, " + keeperRevColumns

// ContractValues are the values of ContractInsertColumns. ClickHouse only.
func ContractValues(d Dialect, c *store.Contract, fields string, first, last int64, rev string) string {
	return strings.Join([]string{d.Str(ContractKey(c)), d.Str(c.Channel), d.Str(c.Service), d.Str(c.Version), d.Str(fields),
		Int(first), Int(last), d.Str(rev), KeeperRevs(d, []string{rev})}, ", ")
}

// ContractSets is the change of KeeperCASUpdate that merges into a
// contract. ClickHouse only.
func ContractSets(d Dialect, fields string, first, last int64) string {
	return "fields = " + d.Str(fields) + ", first_seen = " + Int(first) + ", last_seen = " + Int(last)
}
