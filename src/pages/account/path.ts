/** Where the account center is; its forms post below it. */
export const accountPath = "/account";
