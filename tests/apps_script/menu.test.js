'use strict';
// The menu under Extensions in every authorization mode and both languages, the manifest, and the
// windows the menu opens.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scenario } = require('./addin');
const { APPS_SCRIPT_DIR } = require('./fakes');

const ITEMS = {
  en: ['Upload selected rows', 'Upload all pending rows', 'Check selected rows (no upload)', 'Remove selected rows from campaign', '—',
    'Retry failed rows', 'Show problem rows', '—', 'Settings…', 'Automatic upload…', 'Help ▸'],
  he: ['העלאת השורות שנבחרו', 'העלאת כל השורות הממתינות', 'בדיקת השורות שנבחרו (בלי העלאה)', 'הסרת השורות שנבחרו מהקמפיין', '—',
    'שליחה חוזרת של שורות שנכשלו', 'הצגת השורות הבעייתיות', '—', 'הגדרות…', 'העלאה אוטומטית…', 'עזרה ▸'],
};
const HANDLERS = ['uploadSelectedRows', 'uploadPendingRows', 'checkSelectedRows', 'removeSelectedRows', null, 'retryFailedRows',
  'showProblemRows', null, 'showSettings', 'showAutomation', null];

const captions = (menu) => menu.items.map((item) => item.caption || (item.subMenu ? `${item.subMenu} ▸` : '—'));

for (const mode of ['NONE', 'LIMITED', 'FULL']) {
  for (const [locale, lang] of [['en_US', 'en'], ['iw', 'he']]) {
    test(`onOpen in AuthMode.${mode} builds the add-on menu in ${lang === 'he' ? 'Hebrew' : 'English'}, each item bound to a public function`, () => {
      const { user, addIn } = scenario({ locale });
      user.inAuthMode(mode, () => addIn.onOpen({ authMode: mode }));
      assert.equal(user.log.menus.length, 1);
      const menu = user.log.menus[0];
      assert.equal(menu.addon, true, 'under Extensions, as an add-on menu');
      assert.deepEqual(captions(menu), ITEMS[lang]);
      assert.deepEqual(menu.items.map((item) => item.functionName || null), HANDLERS);
      for (const item of menu.items.filter((i) => i.functionName)) {
        assert.equal(typeof addIn[item.functionName], 'function', item.functionName);
        assert.ok(!item.functionName.endsWith('_'), 'menu items cannot call private functions');
      }
    });
  }
}

test('the language a user chose is used from LIMITED on; in NONE, where properties cannot be read, the account\'s', () => {
  const { user, addIn } = scenario({ locale: 'en_US' });
  user.userProperties.setProperty('callmarker.preferences', JSON.stringify({ language: 'he', skip_card_up_to: 0 }));
  user.inAuthMode('LIMITED', () => addIn.onOpen({ authMode: 'LIMITED' }));
  user.inAuthMode('NONE', () => addIn.onOpen({ authMode: 'NONE' }));
  assert.equal(user.log.menus[0].items[0].caption, 'העלאת השורות שנבחרו');
  assert.equal(user.log.menus[1].items[0].caption, 'Upload selected rows');
});

test('the fake refuses in NONE what Google refuses, so the test above means something', () => {
  const { user, addIn } = scenario();
  assert.throws(() => user.inAuthMode('NONE', () => addIn.userLanguage_ && addIn.loadPreferences_(addIn.PropertiesService.getUserProperties())),
    /permission to call PropertiesService/);
  assert.throws(() => user.inAuthMode('LIMITED', () => addIn.SpreadsheetApp.getUi().showSidebar({})), /permission to call Ui\.showSidebar/);
  assert.throws(() => user.inAuthMode('LIMITED', () => addIn.UrlFetchApp.fetch('https://x.test/')), /permission to call UrlFetchApp/);
});

test('onInstall builds the same menu (Google runs it in FULL, without onOpen)', () => {
  const { user, addIn } = scenario();
  addIn.onInstall({ authMode: 'FULL' });
  assert.deepEqual(captions(user.log.menus[0]), ITEMS.en);
});

test('Help holds the help page and Test connection, which opens the checklist', () => {
  const { user, addIn } = scenario();
  addIn.onOpen({ authMode: 'LIMITED' });
  const help = user.log.menus[0].items.at(-1);
  assert.equal(help.subMenu, 'Help');
  assert.deepEqual(help.items.map((i) => [i.caption, i.functionName]), [['How it works', 'showHelp'], ['Test connection', 'testConnection']]);
  assert.equal(typeof addIn[help.items[1].functionName], 'function');
});

test('the manifest asks for exactly the scopes the add-in needs, on V8', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'appsscript.json'), 'utf8'));
  assert.equal(manifest.runtimeVersion, 'V8');
  // script.scriptapp: the automatic upload's triggers; script.send_mail: its emails (MailApp).
  assert.deepEqual([...manifest.oauthScopes].sort(), [
    'https://www.googleapis.com/auth/script.container.ui',
    'https://www.googleapis.com/auth/script.external_request',
    'https://www.googleapis.com/auth/script.scriptapp',
    'https://www.googleapis.com/auth/script.send_mail',
    'https://www.googleapis.com/auth/spreadsheets',
    'https://www.googleapis.com/auth/userinfo.email',
    'openid',
  ]);
  assert.ok(manifest.urlFetchWhitelist.every((prefix) => /^https:\/\/[^/]+\/$/.test(prefix)));
});

test('the sidebar and the Help window speak the user\'s language, right to left in Hebrew', () => {
  const { user, addIn } = scenario({ locale: 'iw' });
  addIn.showSettings();
  const sidebar = user.log.sidebars[0].getContent();
  assert.match(sidebar, /^<!DOCTYPE html>\n<html lang="he" dir="rtl">/);
  assert.match(sidebar, /<summary>הגדרות<\/summary>/);
  addIn.showHelp();
  const { output, title } = user.log.dialogs[0];
  assert.equal(title, 'עזרה ל-CallMarker');
  assert.match(output.getContent(), /<html lang="he" dir="rtl">/);
});

test('the sidebar\'s style and script are included from their own files, the script written from its checked .js file', () => {
  const { user, addIn } = scenario();
  addIn.showSettings();
  const html = user.log.sidebars[0].getContent();
  const css = fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'SidebarCss.html'), 'utf8');
  assert.ok(html.includes(css.trim()), 'SidebarCss.html is in the page');
  const script = /<script>([\s\S]*)<\/script>\s*<\/body>/.exec(html)[1];
  assert.ok(script.startsWith('(function sidebarPage_() {'), 'the page script is the function of SidebarPage.js');
  assert.ok(script.includes(fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'SidebarPage.js'), 'utf8').match(/'use strict';\n {2}const FIELDS = \[[^\]]+\]/)[0]));
  assert.ok(!/<\/script/i.test(script.slice(0, -1)), 'nothing in the script can end its element early');
});
