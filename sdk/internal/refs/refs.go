// Package refs builds the strong-ID keys of docs/attributes.md
// ("sqs:<MessageId>", "ddb:<table>:<md5>", …) so the consumer side (the
// Lambda wrapper) and the producer side (aws-sdk-go-v2 middleware) cannot
// drift apart. It must stay free of AWS SDK types.
package refs

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
)

// Attribute names of the wire contract.
const (
	Producer = "ariadne.refs.producer"
	Consumer = "ariadne.refs.consumer"
)

func SQS(messageID string) string           { return "sqs:" + messageID }
func SNS(messageID string) string           { return "sns:" + messageID }
func S3(requestID string) string            { return "s3:" + requestID }
func Events(eventID string) string          { return "events:" + eventID }
func Lambda(requestID string) string        { return "lambda:" + requestID }
func Kinesis(shard, sequence string) string { return "kinesis:" + shard + ":" + sequence }

// SFN is the key of one step of a Step Functions workflow correlation id.
func SFN(execution string, step int) string {
	return "sfn:" + execution + ":" + strconv.Itoa(step)
}

// DynamoDB returns "ddb:<table>:<md5 hex>" of the canonical JSON of keys,
// which must be in AttributeValue JSON form ({"pk":{"S":"a"}}).
func DynamoDB(table string, keys map[string]any) (string, bool) {
	c, ok := Canonical(keys)
	if !ok {
		return "", false
	}
	sum := md5.Sum([]byte(c))
	return "ddb:" + table + ":" + hex.EncodeToString(sum[:]), true
}

// Canonical is the canonical JSON of the contract: object keys sorted, no
// whitespace, no HTML escaping.
func Canonical(v any) (string, bool) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

// DynamoDBRaw canonicalises keys given as raw AttributeValue JSON, as found
// in a DynamoDB stream record's Keys.
func DynamoDBRaw(table string, keys map[string]json.RawMessage) (string, bool) {
	m := make(map[string]any, len(keys))
	for k, raw := range keys {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "", false
		}
		m[k] = v
	}
	return DynamoDB(table, m)
}

// TableFromARN returns the table name of a table or stream ARN
// (arn:aws:dynamodb:r:a:table/Name/stream/…).
func TableFromARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// LastSegment returns what follows the last '/' or ':' of an ARN or URL,
// the resource name for queues, topics, streams and buses.
func LastSegment(s string) string {
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		return s[i+1:]
	}
	return s
}
