package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
)

// alertsCmd manages alert rules on a running server:
//
//	ariadne alerts list
//	ariadne alerts add --target slack --url https://hooks.slack.com/… --kind timeout --any-new
//	ariadne alerts add --target email --to ops@example.com --function checkout --threshold 5 --window 10m
//	ariadne alerts rm <id>
type alertsCmd struct{}

func (alertsCmd) Name() string     { return "alerts" }
func (alertsCmd) Synopsis() string { return "list, add and remove alert rules (list | add | rm)" }

func (c alertsCmd) Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return &usageError{msg: "want a subcommand: list, add or rm"}
	}
	switch args[0] {
	case "list", "ls":
		return c.list(ctx, env, args[1:])
	case "add":
		return c.add(ctx, env, args[1:])
	case "rm", "remove", "delete":
		return c.rm(ctx, env, args[1:])
	}
	return &usageError{msg: fmt.Sprintf("unknown subcommand %q: want list, add or rm", args[0])}
}

func (alertsCmd) list(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "alerts list")
	server := serverFlag(fs, env)
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cl, err := newClient(*server)
	if err != nil {
		return err
	}
	defer cl.close()
	var r api.AlertRulesResponse
	raw, err := cl.getJSON(ctx, "/api/v1/alerts/rules", nil, &r)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := env.Stdout.Write(raw)
		return err
	}
	if len(r.Rules) == 0 {
		fmt.Fprintln(env.Stdout, "no alert rules")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tWHEN\tKIND\tFUNCTION\tTARGET")
	for _, ru := range r.Rules {
		when := "any new issue"
		if !ru.AnyNew {
			when = fmt.Sprintf("≥ %d in %s", ru.Threshold, time.Duration(ru.WindowNs))
		}
		dest := ru.URL
		if ru.Target == "email" {
			dest = ru.To
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\n", ru.ID, orDash(ru.Name), when, orAny(ru.Kind), orAny(ru.Function), ru.Target, dest)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

func (alertsCmd) add(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "alerts add")
	server := serverFlag(fs, env)
	var r api.AlertRule
	fs.StringVar(&r.Name, "name", "", "rule name")
	fs.StringVar(&r.Kind, "kind", "", "issue kind (error, timeout, oom, crash, throttle, retry, partial_batch_failure; empty: any)")
	fs.StringVar(&r.Function, "function", "", "function or channel (empty: any)")
	fs.BoolVar(&r.AnyNew, "any-new", false, "notify once per new issue (and per regression)")
	fs.Int64Var(&r.Threshold, "threshold", 0, "notify when an issue counts this many occurrences within --window")
	window := fs.Duration("window", 0, "threshold window (e.g. 10m)")
	fs.StringVar(&r.Target, "target", "", "webhook, slack or email")
	fs.StringVar(&r.URL, "url", "", "webhook URL (webhook, slack)")
	fs.StringVar(&r.To, "to", "", "comma-separated e-mail addresses (email)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	r.WindowNs = int64(*window)
	cl, err := newClient(*server)
	if err != nil {
		return err
	}
	defer cl.close()
	var out api.AlertRuleResponse
	if err := cl.send(ctx, http.MethodPost, "/api/v1/alerts/rules", r, &out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added alert rule %s\n", out.Rule.ID)
	return nil
}

func (alertsCmd) rm(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "alerts rm")
	server := serverFlag(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: "want one rule id"}
	}
	cl, err := newClient(*server)
	if err != nil {
		return err
	}
	defer cl.close()
	var out api.AlertRuleResponse
	if err := cl.send(ctx, http.MethodDelete, "/api/v1/alerts/rules/"+fs.Arg(0), nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed alert rule %s\n", out.Rule.ID)
	return nil
}

// send makes a write request with a JSON body (nil: none) and decodes a
// 2xx JSON answer into out; error answers become *apiError as for get.
func (c *client) send(ctx context.Context, method, path string, in, out any) error {
	u := *c.base
	u.Path += path
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reach server %s (is `ariadne serve` running? see --server): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb api.ErrorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error.Code != "" {
			return &apiError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return &apiError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(firstLine(string(raw)))}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", path, err)
	}
	return nil
}
