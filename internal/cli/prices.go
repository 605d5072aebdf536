package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/pricing/doapi"
)

// PriceOptions choose the price book of the commands that price assets
// (cost, plan): --price-book, else the config's cost.priceBook, else the
// embedded DigitalOcean catalogue; refreshed from the DigitalOcean API when
// a token is given. The config's cost.prices overrides are applied by the
// cost engine (cost.Config.Apply), not here.
type PriceOptions struct {
	PriceBook string
	DOToken   string
}

// AddFlags registers --price-book and --do-token.
func (o *PriceOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.PriceBook, "price-book", "", "price book YAML file (kind: PriceBook); default the config's cost.priceBook, else the embedded DigitalOcean catalogue")
	fs.StringVar(&o.DOToken, "do-token", "", "DigitalOcean API token to refresh Droplet prices (default $DIGITALOCEAN_TOKEN)")
}

// Book returns the price book. configPath resolves a relative cost.priceBook; demo never refreshes
// prices, since the demo reproduces a dated audit.
func (o *PriceOptions) Book(ctx context.Context, cfg cost.Config, configPath string, demo bool, errOut io.Writer) (*pricing.Book, error) {
	var book *pricing.Book
	var err error
	switch {
	case o.PriceBook != "":
		book, err = pricing.Load(o.PriceBook)
	case cfg.PriceBook != "":
		path := cfg.PriceBook
		if !filepath.IsAbs(path) && configPath != "" {
			path = filepath.Join(filepath.Dir(configPath), path)
		}
		book, err = pricing.Load(path)
	default:
		book, err = pricing.DigitalOcean()
	}
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(o.DOToken)
	if token == "" {
		token = strings.TrimSpace(os.Getenv("DIGITALOCEAN_TOKEN"))
	}
	if token != "" && !demo {
		if book.Provider != pricing.ProviderDigitalOcean {
			fmt.Fprintf(errOut, "warning: price book %s is not a DigitalOcean book: the DigitalOcean token is not used\n", book.Name)
		} else {
			if book, err = doapi.Refresh(ctx, book, doapi.Options{Token: token}); err != nil {
				return nil, err
			}
			fmt.Fprintf(errOut, "Droplet prices read from the DigitalOcean API at %s\n", book.Date)
		}
	}
	return book, nil
}
