// klaro's config for the throttled comparison: the same two purposes as formseal's demo
// banner (examples/consent.json), one service each, nothing granted by default.
var klaroConfig = {
  lang: 'en',
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  default: false,
  translations: {
    en: {
      privacyPolicyUrl: '/privacy.html',
      purposes: { analytics: 'Analytics', marketing: 'Marketing' },
    },
  },
  services: [
    { name: 'analytics', title: 'Website statistics', purposes: ['analytics'], cookies: [/^_ga/] },
    { name: 'marketing', title: 'Advertising', purposes: ['marketing'], cookies: ['_fbp'] },
  ],
};
