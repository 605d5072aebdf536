package config

// CheckBudgetCurrency refuses budgets in another currency than the price
// book's, at the line of the budget's currency.
func (c *Config) CheckBudgetCurrency(currency string) error {
	return c.Check("budgets", c.Budgets.CheckCurrency(currency))
}
