package action

import (
	"context"
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/pricing/doapi"
	"github.com/purserhq/purser/internal/snapshot"
)

// PriceOptions choose the price book. Every verb resolves it the same
// way, in this order:
//
//  1. a price book file: Book (--price-book), else the config's
//     cost.priceBook;
//  2. the DigitalOcean catalogue read live from its API, when a token is
//     given and the run is not Offline: DOToken (--do-token) asserts a
//     DigitalOcean cluster and its failure is an error; EnvToken
//     ($DIGITALOCEAN_TOKEN, often exported for doctl) applies only to a
//     DigitalOcean cluster, and its failure falls back to the embedded
//     catalogue with a warning;
//  3. the embedded DigitalOcean catalogue, when the cluster's nodes are
//     DigitalOcean Droplets;
//  4. none: costs are not quoted (a catalogue of another provider would
//     quote wrong prices).
//
// The config's price overrides (cost.prices) then apply to whichever book
// was chosen.
type PriceOptions struct {
	Book     string
	DOToken  string
	EnvToken string
	// Offline never calls the DigitalOcean API (the demo reproduces a
	// dated audit; tests).
	Offline bool
	// Refresh reads the live catalogue; doapi.Refresh when nil.
	Refresh func(ctx context.Context, book *pricing.Book, token string) (*pricing.Book, error)
}

// Prices is the resolved price book and where it came from.
type Prices struct {
	// Book is nil when no price applies.
	Book *pricing.Book
	// Origin says which rule chose the book, for reports and logs.
	Origin   string
	Warnings []string
}

// fileBook reads the price book file the options or the config name,
// before any cluster is read.
func (o PriceOptions) fileBook(cfg *config.Config) (*pricing.Book, error) {
	path := o.Book
	if path == "" {
		path = cfg.PriceBookPath()
	}
	if path == "" {
		return nil, nil
	}
	return pricing.Load(path)
}

func (o PriceOptions) resolve(ctx context.Context, s *snapshot.Snapshot, cfg *config.Config, file *pricing.Book) (Prices, error) {
	var p Prices
	flagToken, envToken := strings.TrimSpace(o.DOToken), strings.TrimSpace(o.EnvToken)
	onDO := OnDigitalOcean(s)
	switch {
	case file != nil:
		p.Book, p.Origin = file, fmt.Sprintf("price book %s", file.Name)
		if flagToken != "" && !o.Offline {
			p.Warnings = append(p.Warnings, fmt.Sprintf("price book %s is given: the DigitalOcean token is not used", file.Name))
		}
	case !o.Offline && (flagToken != "" || (envToken != "" && onDO)):
		embedded, err := pricing.DigitalOcean()
		if err != nil {
			return p, err
		}
		refresh := o.Refresh
		if refresh == nil {
			refresh = func(ctx context.Context, b *pricing.Book, token string) (*pricing.Book, error) {
				return doapi.Refresh(ctx, b, doapi.Options{Token: token})
			}
		}
		token := flagToken
		if token == "" {
			token = envToken
		}
		live, err := refresh(ctx, embedded, token)
		switch {
		case err == nil:
			p.Book, p.Origin = live, "DigitalOcean API, read "+live.Date
		case flagToken != "":
			return p, err
		default:
			p.Book, p.Origin = embedded, "embedded DigitalOcean catalogue of "+embedded.Date
			p.Warnings = append(p.Warnings, fmt.Sprintf("DigitalOcean prices not read with $DIGITALOCEAN_TOKEN (%v): the embedded catalogue of %s applies", err, embedded.Date))
		}
	case onDO:
		b, err := pricing.DigitalOcean()
		if err != nil {
			return p, err
		}
		p.Book, p.Origin = b, "embedded DigitalOcean catalogue of "+b.Date
	default:
		p.Origin = "none: the nodes are not DigitalOcean Droplets and no price book is given (--price-book or cost.priceBook)"
		return p, nil
	}
	b, err := cfg.Cost.Apply(p.Book)
	if err != nil {
		return p, cfg.Check("cost", err)
	}
	p.Book = b
	return p, nil
}

// OnDigitalOcean tells whether the cluster's nodes are DigitalOcean Droplets.
func OnDigitalOcean(s *snapshot.Snapshot) bool {
	for _, n := range s.Nodes {
		if strings.HasPrefix(n.Spec.ProviderID, "digitalocean://") || n.Labels["doks.digitalocean.com/node-pool"] != "" {
			return true
		}
	}
	return false
}
