package duckdb

import (
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// The spans.peer column: what a client or producer span names as its
// callee, computed once at ingest so that the map's calls to
// uninstrumented peers (a database, a queue, an external host) are a
// column read instead of a lookup in every client span's attribute lists.
// It is "<kind>:<name>" (store.Peer* kinds; the name may be empty, and
// may hold ':'), NULL for other spans and for clients that name no peer.
//
// spanPeer is the one definition; peerExprs (below) is its SQL
// twin, kept for migration 0005's backfill and for the test that holds the
// two equal.

// spanPeer returns the peer column of s, "" for NULL.
func spanPeer(s *model.Span) string {
	if s.Kind != model.KindClient && s.Kind != model.KindProducer {
		return ""
	}
	if s.MessagingSystem != "" || s.Kind == model.KindProducer {
		kind := store.PeerQueue
		switch s.MessagingSystem {
		case "aws_sns", "kafka", "gcp_pubsub":
			kind = store.PeerTopic
		case "aws_kinesis":
			kind = store.PeerStream
		case "aws_eventbridge":
			kind = store.PeerBus
		}
		name := s.Destination
		if name == "" {
			name = s.MessagingSystem
		}
		if name == "" {
			name = "unknown"
		}
		return kind + ":" + name
	}
	if s.DBSystem != "" {
		return store.PeerDatabase + ":" + s.DBSystem
	}
	// One pass over the attributes; the first occurrence of a key wins,
	// as list_position does.
	var bucket, rpcSystem, rpcService, server, netPeer, httpHost *string
	for i := range s.Attributes {
		a := &s.Attributes[i]
		var dst **string
		switch a.Key {
		case "aws.s3.bucket":
			dst = &bucket
		case "rpc.system":
			dst = &rpcSystem
		case "rpc.service":
			dst = &rpcService
		case "server.address":
			dst = &server
		case "net.peer.name":
			dst = &netPeer
		case "http.host":
			dst = &httpHost
		default:
			continue
		}
		if *dst == nil {
			*dst = &a.Value.Str
		}
	}
	if bucket != nil {
		return store.PeerBucket + ":" + *bucket
	}
	if rpcSystem != nil && *rpcSystem == "aws-api" {
		if rpcService != nil && (*rpcService == "Lambda" || *rpcService == "SFN") {
			return "" // an instrumented callee's hop, not a peer
		}
		name := ""
		if rpcService != nil {
			name = *rpcService
		}
		return store.PeerAWS + ":" + name
	}
	for _, h := range []*string{server, netPeer, httpHost} {
		if h != nil {
			return store.PeerHTTP + ":" + *h
		}
	}
	return ""
}

// peerExprs returns the kind and name of the peer a client span names,
// from the most specific convention to the least: the SQL twin of
// spanPeer, which computes the spans.peer column at ingest. Queries read
// the column; this stays for the test that holds spanPeer equal to it
// (migration 0005's backfill holds a copy).
func peerExprs() (kind, name string) {
	attr := func(k string) string { return "attr_values[list_position(attr_keys, '" + k + "')]" }
	bucket := attr("aws.s3.bucket")
	rpcSystem := attr("rpc.system")
	rpcService := attr("rpc.service")
	host := "coalesce(" + attr("server.address") + ", " + attr("net.peer.name") + ", " + attr("http.host") + ")"
	messaging := "(messaging_system IS NOT NULL OR kind = 4)"
	kind = `CASE
		WHEN ` + messaging + ` THEN CASE messaging_system
			WHEN 'aws_sns' THEN 'topic' WHEN 'kafka' THEN 'topic' WHEN 'gcp_pubsub' THEN 'topic'
			WHEN 'aws_kinesis' THEN 'stream' WHEN 'aws_eventbridge' THEN 'eventbus' ELSE 'queue' END
		WHEN db_system IS NOT NULL THEN 'database'
		WHEN ` + bucket + ` IS NOT NULL THEN 'bucket'
		WHEN ` + rpcSystem + ` = 'aws-api' AND ` + rpcService + ` IN ('Lambda', 'SFN') THEN NULL
		WHEN ` + rpcSystem + ` = 'aws-api' THEN 'aws'
		WHEN ` + host + ` IS NOT NULL THEN 'http'
		ELSE NULL END`
	name = `CASE
		WHEN ` + messaging + ` THEN coalesce(destination, messaging_system, 'unknown')
		WHEN db_system IS NOT NULL THEN db_system
		WHEN ` + bucket + ` IS NOT NULL THEN ` + bucket + `
		WHEN ` + rpcSystem + ` = 'aws-api' THEN ` + rpcService + `
		ELSE ` + host + ` END`
	return kind, name
}
