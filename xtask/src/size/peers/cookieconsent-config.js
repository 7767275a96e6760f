// vanilla-cookieconsent's config for the throttled comparison: the same two purposes as
// formseal's demo banner (examples/consent.json) besides the necessary category.
CookieConsent.run({
  // Its default hides the banner from automated browsers (navigator.webdriver), which the
  // benchmark's is; a visitor's browser shows it either way.
  hideFromBots: false,
  categories: {
    necessary: { enabled: true, readOnly: true },
    analytics: { autoClear: { cookies: [{ name: /^_ga/ }] } },
    marketing: {},
  },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: 'We use cookies',
          description: 'Analytics and advertising cookies, only with your consent.',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          showPreferencesBtn: 'Choose',
        },
        preferencesModal: {
          title: 'Privacy settings',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save',
          sections: [
            { title: 'Necessary', linkedCategory: 'necessary' },
            { title: 'Analytics', linkedCategory: 'analytics' },
            { title: 'Marketing', linkedCategory: 'marketing' },
          ],
        },
      },
    },
  },
});
