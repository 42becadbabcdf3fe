package main

import "net/url"

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		die("bad url %s: %v", s, err)
	}
	return *u
}

func urls(u url.URL) []url.URL { return []url.URL{u} }
