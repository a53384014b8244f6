// Package marketplace is the app marketplace: catalogs of ISV apps, the
// publisher keys each organisation trusts, and per-organisation installs of
// signed bundles with the admin's consent — granted scopes (possibly
// narrowed to a department subtree), who sees the app, settings, enable,
// disable, upgrade, rollback and uninstall, every step audited. Staff get an
// app center listing the apps they may open.
//
// Bundles are verified (marketplace/bundle) when an admin installs or
// upgrades, kept in the shared file store under
// marketplace/bundles/<app>/<version>.tgz, and unpacked by every node into
// its own data folder on demand, checked again against the checksums
// recorded at install. A change is recorded in SQL first, applied on the
// acting node, then announced on the bus ("marketplace.install.changed") so
// every other node converges on the same version: the database is the
// record, the event only says "go and look".
//
// It refuses to know how an app runs (Host, implemented over the plugin
// host by cmd/rounds), who may do what (Authorizer), where people sit in
// the org chart (Staff) and where the catalog lives (Catalog, see
// marketplace/catalog). The manifest type and scope names are the plugin
// SDK's (plugins/sdk), the contract ISVs build against.
//
// A failed request changes nothing: a bundle that does not verify is never
// stored, and an install or upgrade that the node cannot start is taken
// back before the error is returned.
//
// Lock order: Service.nodeMu (one node-side apply at a time) before
// Service.mu (the applied revisions); neither is held across a database
// write made for an admin's request.
package marketplace
