/**
 * Where the add-in finds the Cloud Function. deploy/apps_script.sh writes the real values into the
 * copy it pushes; the values here are empty so that an add-in pushed by hand says what is missing.
 */

const CONFIG = Object.freeze({
  /** The function's HTTPS URL, such as https://europe-west1-my-project.cloudfunctions.net/upload_rows. */
  functionUrl: '',
  /**
   * The audience the function accepts in ID tokens. ScriptApp.getIdentityToken() is issued to this
   * script's OAuth client, so this is that client's id; used to explain a refused sign-in.
   */
  idTokenAudience: '',
});
